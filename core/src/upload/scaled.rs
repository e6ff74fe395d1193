//! `a * b / c` on u64 without a 128-bit intermediate. Rates, times left and
//! percentages multiply byte counts that may be large; a `u128` product is
//! exact, but dividing it links the 128-bit division routine (1 KB) into the
//! browser bundle. This gets the same result with u64 operations only.

/// `a * b / c` rounded down; see [`mul_add_div`].
pub(crate) fn mul_div(a: u64, b: u64, c: u64) -> u64 {
    mul_add_div(a, b, 0, c)
}

/// `(a * b + add) / c` rounded down, computed exactly as in 128 bits and
/// then truncated to 64 like `as u64` (only a result above `u64::MAX` is
/// affected). Needs `add < c`.
pub(crate) fn mul_add_div(a: u64, b: u64, add: u64, c: u64) -> u64 {
    debug_assert!(add < c, "add {add} not below c {c}");
    // a * b = (a / c) * b * c + (a % c) * b: the first part divides exactly.
    let (whole, rest) = (a / c, a % c);
    // (rest * b + add) / c by doubling and adding over the bits of b, the
    // remainder always below c; the quotient stays at most b.
    let mut sum = Sum {
        quotient: 0,
        remainder: 0,
        c,
    };
    for bit in (0..u64::BITS - b.leading_zeros()).rev() {
        sum.quotient <<= 1;
        sum.add(sum.remainder);
        if (b >> bit) & 1 == 1 {
            sum.add(rest);
        }
    }
    sum.add(add);
    whole.wrapping_mul(b).wrapping_add(sum.quotient)
}

/// A number kept as `quotient * c + remainder`, `remainder < c`.
struct Sum {
    quotient: u64,
    remainder: u64,
    c: u64,
}

impl Sum {
    /// Adds `x < c` without overflowing.
    fn add(&mut self, x: u64) {
        let room = self.c - x;
        if self.remainder >= room {
            self.remainder -= room;
            self.quotient += 1;
        } else {
            self.remainder += x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn wide(a: u64, b: u64, add: u64, c: u64) -> u64 {
        ((u128::from(a) * u128::from(b) + u128::from(add)) / u128::from(c)) as u64
    }

    #[test]
    fn edges_match_the_128_bit_result() {
        let m = u64::MAX;
        for (a, b, add, c) in [
            (0, 0, 0, 1),
            (m, m, 0, 1),
            (m, m, m - 1, m),
            (m, 1_000, 0, 7),
            (m - 1, 100, 0, m),
            (12_345, 1_000, 0, 250),
            (999, 10, 500, 1_000),
            (1 << 63, 3, 1, 2),
        ] {
            assert_eq!(
                mul_add_div(a, b, add, c),
                wide(a, b, add, c),
                "{a} {b} {add} {c}"
            );
        }
        assert_eq!(mul_div(7, 100, 8), 87);
    }

    proptest! {
        #[test]
        fn any_operands_match_the_128_bit_result(
            a in any::<u64>(),
            b in any::<u64>(),
            c in 1..=u64::MAX,
            add_part in any::<u64>(),
        ) {
            let add = add_part % c;
            prop_assert_eq!(mul_add_div(a, b, add, c), wide(a, b, add, c));
        }

        #[test]
        fn small_factors_match_the_128_bit_result(
            a in any::<u64>(),
            b in 0..=1_000u64,
            c in 1..=u64::MAX,
        ) {
            prop_assert_eq!(mul_div(a, b, c), wide(a, b, 0, c));
        }
    }
}
