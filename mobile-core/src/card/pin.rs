//! The patient's 4-digit PIN and the retry guard that keeps the crew from locking a card.
//!
//! A My Number card's user-authentication PIN (JPKI EF `0018`) and input-support PIN
//! (EF `0011`) block after three wrong tries; unblocking needs the patient at the town
//! hall. So no PIN is ever sent blind: every path that sends one ([`super::jpki::sign_challenge`],
//! [`super::input_support::read_basic_facts`]) first asks the card how many tries remain
//! with a VERIFY that carries no data (which spends nothing), and refuses to send the PIN
//! when only one try (or none) is left. The crew then falls back to the
//! face-photo check.
//!
//! [`Pin`] never prints its digits and wipes them on drop (best effort: it is a plain
//! array, so copies the optimiser makes are out of reach).

use super::apdu;
use super::error::CardError;
use super::exchange::exchange;
use super::status::StatusError;
use super::transport::CardTransport;

/// Digits in a JPKI user-authentication or input-support PIN.
pub const PIN_LEN: usize = 4;
/// Fewest remaining tries at which a PIN is still sent: with one try left a typo would
/// block the card, so the guard refuses.
pub const MIN_TRIES_TO_SEND_PIN: u8 = 2;

/// A 4-digit card PIN (暗証番号), as typed by the patient.
///
/// Built only through [`Pin::new`], so every `Pin` is exactly four ASCII digits. Its
/// `Debug` prints `Pin(****)`; it has no `Display`, no `Clone` and no accessor outside
/// this crate.
pub struct Pin([u8; PIN_LEN]);

impl Pin {
    /// Accepts exactly four ASCII digits (`0`-`9`), nothing else: no spaces, no
    /// full-width digits.
    pub fn new(digits: &str) -> Result<Pin, CardError> {
        let bytes: [u8; PIN_LEN] = digits
            .as_bytes()
            .try_into()
            .map_err(|_| CardError::PinFormat)?;
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(CardError::PinFormat);
        }
        Ok(Pin(bytes))
    }

    /// The ASCII digits, for the VERIFY command only.
    pub(crate) fn digits(&self) -> &[u8; PIN_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(****)")
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        self.0.fill(0);
        // Keep the wipe from being optimised away as a dead store.
        std::hint::black_box(&self.0);
    }
}

/// What a PIN's retry counter says, asked without spending a try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinTries {
    /// The PIN was already verified in this card session (9000); the counter is then at
    /// its maximum (a successful VERIFY resets it).
    Verified,
    /// `n` tries remain (63Cn, n ≥ 1).
    Left(u8),
    /// No try remains (6983 or 63C0): the PIN must not be asked for.
    Blocked,
}

impl PinTries {
    /// True when the guard lets a PIN be sent: already verified, or at least
    /// [`MIN_TRIES_TO_SEND_PIN`] tries left.
    pub fn allows_pin_entry(self) -> bool {
        match self {
            PinTries::Verified => true,
            PinTries::Left(n) => n >= MIN_TRIES_TO_SEND_PIN,
            PinTries::Blocked => false,
        }
    }
}

/// Asks the currently selected PIN EF how many tries remain (VERIFY without data).
pub(crate) fn pin_tries(transport: &dyn CardTransport) -> Result<PinTries, CardError> {
    match exchange(transport, apdu::verify_status()) {
        Ok(_) => Ok(PinTries::Verified),
        Err(CardError::Status(StatusError::WrongPin { tries_left })) => {
            Ok(PinTries::Left(tries_left))
        }
        Err(CardError::Status(StatusError::PinBlocked)) => Ok(PinTries::Blocked),
        Err(other) => Err(other),
    }
}

/// Verifies `pin` against the currently selected PIN EF, but only after the retry
/// counter shows the guard allows it ([`PinTries::allows_pin_entry`]).
///
/// - one try left: [`CardError::PinGuard`], and the PIN is not sent;
/// - blocked: [`StatusError::PinBlocked`], and the PIN is not sent;
/// - already verified in this card session: the PIN typed now is still sent and checked.
///   A session verified earlier proves nothing about this PIN, and the counter is at its
///   maximum after a successful VERIFY, so a typo cannot bring the card near blocking;
/// - a wrong PIN: [`StatusError::WrongPin`] with the tries now left (or
///   [`StatusError::PinBlocked`] if that was the last).
pub(crate) fn verify_guarded(transport: &dyn CardTransport, pin: &Pin) -> Result<(), CardError> {
    let tries = pin_tries(transport)?;
    if tries.allows_pin_entry() {
        return exchange(transport, apdu::verify(pin.digits())).map(drop);
    }
    match tries {
        PinTries::Left(tries_left) => {
            tracing::info!(
                tries_left,
                "PIN guard: too few tries left; not sending a PIN"
            );
            Err(CardError::PinGuard { tries_left })
        }
        PinTries::Blocked | PinTries::Verified => {
            tracing::info!("PIN blocked; not sending a PIN");
            Err(CardError::Status(StatusError::PinBlocked))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_exactly_four_ascii_digits() {
        assert_eq!(Pin::new("0123").unwrap().digits(), b"0123");
        for bad in [
            "",
            "123",
            "12345",
            "12a4",
            " 123",
            "123 ",
            "１２３４",
            "12\u{0}4",
        ] {
            assert!(
                matches!(Pin::new(bad), Err(CardError::PinFormat)),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn pins_never_print() {
        let pin = Pin::new("9876").unwrap();
        assert_eq!(format!("{pin:?}"), "Pin(****)");
        assert_eq!(format!("{:#?}", Some(&pin)), "Some(\n    Pin(****),\n)");
        let error = Pin::new("98765").unwrap_err();
        assert!(!error.to_string().contains("98765"));
    }

    #[test]
    fn guard_lets_a_pin_through_only_with_two_tries_or_more() {
        assert!(PinTries::Verified.allows_pin_entry());
        assert!(PinTries::Left(3).allows_pin_entry());
        assert!(PinTries::Left(2).allows_pin_entry());
        assert!(!PinTries::Left(1).allows_pin_entry());
        assert!(!PinTries::Left(0).allows_pin_entry());
        assert!(!PinTries::Blocked.allows_pin_entry());
    }
}
