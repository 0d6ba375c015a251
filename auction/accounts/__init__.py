"""Accounts: registration, login sessions and who is logged in."""

from .queries import PublicUser, user_for_token, users_for_tokens
from .service import (
    MIN_PASSWORD,
    RegistrationError,
    authenticate,
    end_session,
    hash_password,
    normalize_cpf_cnpj,
    register,
    registration_problems,
    start_session,
    validate_registration,
)

__all__ = [
    "MIN_PASSWORD",
    "PublicUser",
    "RegistrationError",
    "authenticate",
    "end_session",
    "hash_password",
    "normalize_cpf_cnpj",
    "register",
    "registration_problems",
    "start_session",
    "user_for_token",
    "users_for_tokens",
    "validate_registration",
]
