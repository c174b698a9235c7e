"""Project codes: BIP codes of the Sistema Nacional de Inversiones (with a modulo-11 check digit)
and the municipality's own codes for projects without one."""

from __future__ import annotations

import re

BIP_PATTERN = re.compile(r"^(\d{6,9})-?([0-9K])$")
MUNICIPAL_PATTERN = re.compile(r"^[A-Z]{2,8}(-[A-Z0-9]{1,10}){1,3}$")
"""A municipal code: letters, then one to three dash-separated parts (``MUN-2024-007``)."""
CODE_HINT = ("Use un código BIP con dígito verificador (p. ej. 30132469-3) o un código "
             "municipal (p. ej. MUN-2024-007).")


def check_digit(number: int) -> str:
    """Check digit of a BIP code, computed as for a Chilean RUT (modulo 11).

    Examples
    --------
    >>> check_digit(30132469)
    '3'
    >>> check_digit(30770433)
    '1'
    """
    total, factor = 0, 2
    while number:
        total += (number % 10) * factor
        number //= 10
        factor = 2 if factor == 7 else factor + 1
    dv = 11 - total % 11
    return {10: "K", 11: "0"}.get(dv, str(dv))


def code_problem(code: str) -> tuple[str, str | None]:
    """The canonical form of a project code and, when it is not valid, why (in Spanish).

    A BIP code is digits, a dash and a check digit (``30132469-3``; the dash may be left
    out); a wrong check digit is reported with the right one. Anything else must follow
    the municipal pattern (``MUN-2024-007``).

    Examples
    --------
    >>> code_problem(" 30132469-3 ")
    ('30132469-3', None)
    >>> code_problem("30132469-5")[1]
    'el dígito verificador del código BIP 30132469-5 no es 5 sino 3'
    """
    text = code.strip().upper().replace(".", "")
    if not text:
        return text, "el código está vacío"
    bip = BIP_PATTERN.match(text)
    if bip:
        number, dv = bip.groups()
        canonical = f"{int(number)}-{dv}"
        right = check_digit(int(number))
        if dv != right:
            return canonical, (f"el dígito verificador del código BIP {canonical} no es {dv} "
                               f"sino {right}")
        return canonical, None
    if text[:1].isdigit():
        return text, f"«{code.strip()[:40]}» no es un código BIP (número-dígito verificador)"
    if not MUNICIPAL_PATTERN.match(text):
        return text, f"«{code.strip()[:40]}» no es un código BIP ni un código municipal"
    return text, None
