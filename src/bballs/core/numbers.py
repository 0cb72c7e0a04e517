"""Numbers written as the reports write them, for every layer that describes a setting."""

from __future__ import annotations

SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(value: float) -> str:
    """A number as a power of ten, as the prose writes a learning rate: 10⁻³, 2×10⁻³."""
    mantissa, exponent = f"{value:.0e}".split("e")
    power = f"10{str(int(exponent)).translate(SUPERSCRIPT)}"
    return power if mantissa == "1" else f"{mantissa}×{power}"


def count_word(n: int) -> str:
    """A small count in words ("no", "one", ... "twelve"), larger ones in digits."""
    words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
             "eleven", "twelve")
    return words[n] if n < len(words) else str(n)
