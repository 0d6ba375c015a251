"""Alerts that reach people away from the site: e-mail and Web Push, per their preferences, throttled.

catalogue (pure: kinds, channels, defaults), throttle (pure), preferences, dispatch (notifications become
deliveries), deliveries (what is due, what became of it), push (subscriptions, sending with VAPID).
The jobs round that drives them and the words they are written in: auction/entrypoints/alerts.py.
"""
