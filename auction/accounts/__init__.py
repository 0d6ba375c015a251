"""Accounts: registration, login sessions and who is logged in; the account's lifecycle (e-mail confirmation,
password reset, e-mail change), its defences (lock-out, new devices, two-factor login, the step-up before money
leaves) and the owner's LGPD rights (consents, a copy of their data, deletion)."""

from .lifecycle import Link, WrongPassword, send_verification
from .personal_data import CURRENT_VERSIONS, PRIVACY_VERSION, TERMS_VERSION
from .queries import PublicUser, user_for_token, users_for_tokens
from .security import (
    LoginAttempt,
    StepUpFailed,
    WithdrawalWaits,
    attempt_login,
    authorize_withdrawal,
    begin_session,
    second_factor_on,
)
from .service import (
    MIN_PASSWORD,
    RegistrationError,
    end_session,
    hash_password,
    normalize_cpf_cnpj,
    register,
    registration_problems,
    start_session,
    validate_registration,
)
from .tokens import BadToken

__all__ = [
    "CURRENT_VERSIONS",
    "MIN_PASSWORD",
    "PRIVACY_VERSION",
    "TERMS_VERSION",
    "BadToken",
    "Link",
    "LoginAttempt",
    "PublicUser",
    "RegistrationError",
    "StepUpFailed",
    "WithdrawalWaits",
    "WrongPassword",
    "attempt_login",
    "authorize_withdrawal",
    "begin_session",
    "end_session",
    "hash_password",
    "normalize_cpf_cnpj",
    "register",
    "registration_problems",
    "second_factor_on",
    "send_verification",
    "start_session",
    "user_for_token",
    "users_for_tokens",
    "validate_registration",
]
