"""PIX keys: the five kinds Asaas takes (`pixAddressKeyType`), validated and normalized. Pure.

A CPF or CNPJ key names its owner, so it must be the account's own document: money leaves
only to the account holder where the key type allows the check. E-mail, phone and random
(EVP) keys carry no document here; Asaas and the receiving bank resolve their owner.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from enum import StrEnum

from ..errors import Invalid


class KeyType(StrEnum):
    CPF = "CPF"
    CNPJ = "CNPJ"
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    EVP = "EVP"


@dataclass(frozen=True)
class PixKey:
    key: str
    type: KeyType


class KeyOwnerMismatch(Invalid, code="pix_key_owner"):
    """A CPF/CNPJ PIX key that is not the account's own document."""


class KeyTypeNotAllowed(Invalid, code="pix_key_type"):
    """An e-mail, phone or random key while only the holder's own CPF/CNPJ may receive money."""


OWN_DOCUMENT_TYPES = ("CPF", "CNPJ")


EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def _check(digits: str, weights: list[int]) -> int:
    rest = sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11
    return 0 if rest < 2 else 11 - rest


def cpf_ok(digits: str) -> bool:
    if len(digits) != 11 or len(set(digits)) == 1:
        return False
    first = _check(digits[:9], list(range(10, 1, -1)))
    second = _check(digits[:10], list(range(11, 1, -1)))
    return digits[9:] == f"{first}{second}"


def cnpj_ok(digits: str) -> bool:
    if len(digits) != 14 or len(set(digits)) == 1:
        return False
    weights = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    first = _check(digits[:12], weights)
    second = _check(digits[:13], [6, *weights])
    return digits[12:] == f"{first}{second}"


def parse_key(raw: object, key_type: object) -> PixKey:
    """The key in Asaas's form for its type, or Invalid saying what is wrong."""
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid("give the PIX key", field="pix_key")
    try:
        kind = KeyType(str(key_type).upper())
    except ValueError:
        raise Invalid("the key type is CPF, CNPJ, EMAIL, PHONE or EVP", field="pix_key_type") from None
    text = raw.strip()
    if kind is KeyType.CPF:
        digits = _digits(text)
        if not cpf_ok(digits):
            raise Invalid("that is not a valid CPF", field="pix_key")
        return PixKey(digits, kind)
    if kind is KeyType.CNPJ:
        digits = _digits(text)
        if not cnpj_ok(digits):
            raise Invalid("that is not a valid CNPJ", field="pix_key")
        return PixKey(digits, kind)
    if kind is KeyType.EMAIL:
        if len(text) > 77 or not EMAIL.match(text):
            raise Invalid("that is not a valid e-mail key", field="pix_key")
        return PixKey(text.lower(), kind)
    if kind is KeyType.PHONE:
        digits = phone_digits(text)
        if len(digits) != 11 or digits[0] == "0":
            raise Invalid("a phone key is a mobile number with area code: 11 91234-5678", field="pix_key")
        return PixKey(digits, kind)
    try:
        return PixKey(str(uuid.UUID(text)), kind)
    except ValueError:
        raise Invalid("a random key (EVP) looks like 123e4567-e89b-12d3-a456-426614174000", field="pix_key") from None


def phone_digits(text: str) -> str:
    """A phone key as Asaas takes it: 11 digits with the area code, no +55 (transfers reference)."""
    digits = _digits(text)
    return digits[2:] if digits.startswith("55") and len(digits) == 13 else digits


def asaas_key(key: str, key_type: str) -> str:
    """The key as sent to Asaas; phone keys stored before this form (+55...) are brought to it."""
    return phone_digits(key) if key_type == KeyType.PHONE else key


def same_key(stored: str, key_type: str, sent: object) -> bool:
    """Whether `sent` (from Asaas) is the key we stored, both in one normalized form."""
    if not isinstance(sent, str):
        return False
    if key_type in (KeyType.CPF, KeyType.CNPJ):
        return _digits(stored) == _digits(sent)
    if key_type == KeyType.PHONE:
        return phone_digits(stored) == phone_digits(sent)
    return stored.strip().lower() == sent.strip().lower()


def check_owner(key: PixKey, account_document: str | None, *, other_keys: bool = False) -> None:
    """Money leaves only to the holder: a CPF or CNPJ key must be the account's own CPF/CNPJ, and the other key
    types, which name no owner we could compare before sending, only where an admin allowed them
    (WITHDRAWAL_OTHER_KEYS; Asaas's answer is still checked, `owner_matches`)."""
    if key.type not in OWN_DOCUMENT_TYPES and not other_keys:
        raise KeyTypeNotAllowed(
            "money goes only to a PIX key that is your own CPF or CNPJ: an e-mail, phone or random key "
            "cannot be checked to be yours",
            field="pix_key_type",
        )
    if key.type in OWN_DOCUMENT_TYPES and key.key != _digits(account_document or ""):
        raise KeyOwnerMismatch("a CPF or CNPJ key must be your own document, the one on your account", field="pix_key")


def owner_matches(transfer: dict[str, object], account_document: str | None) -> bool | None:
    """Whether the account a transfer goes to is the holder's, from `bankAccount.cpfCnpj` in Asaas's answer
    (creation, reads, webhooks, the validation call). Asaas shows it masked ("***.143.689-**"), so the digits it
    shows are compared position by position; a document of another length (a CNPJ for a CPF holder) differs.
    None when the transfer names no document (then only the key rule of `check_owner` stands)."""
    bank = transfer.get("bankAccount")
    shown = bank.get("cpfCnpj") if isinstance(bank, dict) else None
    if not isinstance(shown, str) or not any(c.isdigit() for c in shown):
        return None
    masked = [c for c in shown if c.isdigit() or c == "*"]
    document = _digits(account_document or "")
    if len(masked) != len(document):
        return False
    return all(m == "*" or m == d for m, d in zip(masked, document, strict=True))


def masked(key: str) -> str:
    """For pages and logs: enough to recognize the key, not to copy it."""
    return key if len(key) <= 6 else f"{key[:3]}…{key[-3:]}"
