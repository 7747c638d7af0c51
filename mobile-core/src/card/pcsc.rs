//! A [`CardTransport`] over PC/SC (feature `pcsc`): USB contactless readers on a desktop,
//! and the virtual readers (vsmartcard's `vpcd`) the simulations use.
//!
//! Talks to the system smart-card service (pcscd / pcsc-lite, or WinSCard) through the
//! [`pcsc`](https://docs.rs/pcsc) crate. Not compiled by default: Android and iOS have no
//! pcsc-lite; there the app implements [`CardTransport`] over NFC.
//!
//! Every call blocks (a reader exchange, a wait for a card): call them from a dedicated
//! thread or `tokio::task::spawn_blocking`, never on an async executor.
//!
//! # Example
//! ```no_run
//! # fn main() -> Result<(), mobile_core::MobileError> {
//! use std::time::Duration;
//! use mobile_core::card::{jpki, pcsc::PcscReaders};
//!
//! let readers = PcscReaders::establish()?;
//! let reader = readers.wait_for_card(None, Duration::from_secs(30))?;
//! let card = readers.connect(&reader, Duration::from_secs(5))?;
//! let certificate = jpki::read_auth_certificate(&card)?;
//! drop(card); // disconnects and resets the card
//! # let _ = certificate;
//! # Ok(()) }
//! ```

use std::ffi::CString;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use ::pcsc::{
    Card, Context, Disposition, Error, MAX_BUFFER_SIZE_EXTENDED, Protocols, ReaderState, Scope,
    ShareMode, State,
};

use super::reader::ReaderError;
use super::transport::{CardLinkError, CardTransport};

/// Pause between connection attempts while another application holds the card.
const SHARING_RETRY_INTERVAL: Duration = Duration::from_millis(100);

/// A connection to the smart-card service: lists readers, waits for cards, connects.
pub struct PcscReaders {
    context: Context,
}

impl std::fmt::Debug for PcscReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscReaders").finish_non_exhaustive()
    }
}

impl PcscReaders {
    /// Connects to the smart-card service (user scope).
    /// [`ReaderError::ServiceUnavailable`] when pcscd is not running.
    pub fn establish() -> Result<PcscReaders, ReaderError> {
        let context = Context::establish(Scope::User).map_err(|e| reader_error(e, None))?;
        Ok(PcscReaders { context })
    }

    /// Names of the connected readers, e.g. `"Virtual PCD 00 00"`.
    /// [`ReaderError::NoReaders`] when there is none.
    pub fn readers(&self) -> Result<Vec<String>, ReaderError> {
        let names = self
            .context
            .list_readers_owned()
            .map_err(|e| reader_error(e, None))?;
        if names.is_empty() {
            return Err(ReaderError::NoReaders);
        }
        Ok(names
            .into_iter()
            .map(|name| name.to_string_lossy().into_owned())
            .collect())
    }

    /// The reader to use: `name` exactly if given (and connected), else the first
    /// reader with a card present.
    pub fn select_reader(&self, name: Option<&str>) -> Result<String, ReaderError> {
        match name {
            Some(name) => {
                if self.readers()?.iter().any(|r| r == name) {
                    Ok(name.to_owned())
                } else {
                    Err(ReaderError::ReaderNotFound { name: name.into() })
                }
            }
            None => self.reader_with_card(),
        }
    }

    /// The first reader with a card present, without waiting. [`ReaderError::NoCard`]
    /// when every reader is empty.
    pub fn reader_with_card(&self) -> Result<String, ReaderError> {
        let mut states = self.reader_states(None)?;
        self.status_change(Duration::ZERO, &mut states, None)?;
        first_with_card(&states).ok_or(ReaderError::NoCard)
    }

    /// Waits until a card is on `reader` (or on any reader connected now, if `None`) and
    /// returns that reader's name; at once if a card is already there.
    /// [`ReaderError::Timeout`] after `timeout`. Readers plugged in while waiting are not
    /// watched.
    pub fn wait_for_card(
        &self,
        reader: Option<&str>,
        timeout: Duration,
    ) -> Result<String, ReaderError> {
        let deadline = Instant::now() + timeout;
        let mut states = self.reader_states(reader)?;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            self.status_change(remaining, &mut states, reader)?;
            if let Some(name) = first_with_card(&states) {
                return Ok(name);
            }
            check_readers_present(&states)?;
            states.iter_mut().for_each(ReaderState::sync_current_state);
        }
    }

    /// Waits until `reader` has no card (at once if it is empty already).
    /// [`ReaderError::Timeout`] after `timeout`.
    pub fn wait_for_removal(&self, reader: &str, timeout: Duration) -> Result<(), ReaderError> {
        let deadline = Instant::now() + timeout;
        let mut states = self.reader_states(Some(reader))?;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            self.status_change(remaining, &mut states, Some(reader))?;
            if first_with_card(&states).is_none() {
                return Ok(());
            }
            states.iter_mut().for_each(ReaderState::sync_current_state);
        }
    }

    /// Connects to the card on `reader` exclusively (T=0 or T=1, whichever the card
    /// offers). While another application holds the card, retries until `timeout`, then
    /// [`ReaderError::CardInUse`].
    pub fn connect(&self, reader: &str, timeout: Duration) -> Result<PcscTransport, ReaderError> {
        let name = reader_name(reader)?;
        let deadline = Instant::now() + timeout;
        loop {
            match self
                .context
                .connect(&name, ShareMode::Exclusive, Protocols::ANY)
            {
                Ok(card) => {
                    tracing::debug!(reader, "connected to card");
                    return Ok(PcscTransport {
                        link: Mutex::new(Some(Link {
                            card,
                            buffer: vec![0; MAX_BUFFER_SIZE_EXTENDED],
                        })),
                        reader: reader.to_owned(),
                    });
                }
                Err(Error::SharingViolation) => {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    if remaining.is_zero() {
                        return Err(ReaderError::CardInUse);
                    }
                    std::thread::sleep(remaining.min(SHARING_RETRY_INTERVAL));
                }
                Err(error) => return Err(reader_error(error, Some(reader))),
            }
        }
    }

    /// One state per watched reader, all initially "unaware" so the first status change
    /// reports the current state at once.
    fn reader_states(&self, reader: Option<&str>) -> Result<Vec<ReaderState>, ReaderError> {
        let readers = self.readers()?;
        let names = match reader {
            Some(name) if readers.iter().any(|r| r == name) => vec![name.to_owned()],
            Some(name) => return Err(ReaderError::ReaderNotFound { name: name.into() }),
            None => readers,
        };
        names
            .iter()
            .map(|name| Ok(ReaderState::new(reader_name(name)?, State::UNAWARE)))
            .collect()
    }

    fn status_change(
        &self,
        timeout: Duration,
        states: &mut [ReaderState],
        reader: Option<&str>,
    ) -> Result<(), ReaderError> {
        self.context
            .get_status_change(timeout, states)
            .map_err(|e| reader_error(e, reader))
    }
}

/// The name of the first reader whose card is present and answers.
fn first_with_card(states: &[ReaderState]) -> Option<String> {
    states
        .iter()
        .find(|s| {
            let state = s.event_state();
            state.contains(State::PRESENT) && !state.contains(State::MUTE)
        })
        .map(|s| s.name().to_string_lossy().into_owned())
}

/// Fails when a watched reader was unplugged.
fn check_readers_present(states: &[ReaderState]) -> Result<(), ReaderError> {
    match states
        .iter()
        .find(|s| s.event_state().intersects(State::UNKNOWN))
    {
        Some(gone) => Err(ReaderError::ReaderNotFound {
            name: gone.name().to_string_lossy().into_owned(),
        }),
        None => Ok(()),
    }
}

fn reader_name(name: &str) -> Result<CString, ReaderError> {
    CString::new(name).map_err(|_| ReaderError::ReaderNotFound { name: name.into() })
}

struct Link {
    card: Card,
    /// Receive buffer, reused across exchanges.
    buffer: Vec<u8>,
}

/// An exclusive connection to the card on one PC/SC reader.
///
/// Dropping it disconnects with a card reset, so the next user starts from a fresh,
/// unauthenticated card: a verified PIN does not linger. An exchange that finds the card
/// gone ([`CardLinkError::Lost`]) disconnects at once: the card put back can be connected
/// to again while this value still lives, and every later exchange on it fails as lost.
pub struct PcscTransport {
    link: Mutex<Option<Link>>,
    reader: String,
}

impl std::fmt::Debug for PcscTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscTransport")
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

impl PcscTransport {
    /// Connects to the card on `reader`: the same as [`PcscReaders::connect`].
    pub fn connect_reader(
        readers: &PcscReaders,
        reader: &str,
        timeout: Duration,
    ) -> Result<PcscTransport, ReaderError> {
        readers.connect(reader, timeout)
    }

    /// The reader's name.
    pub fn reader(&self) -> &str {
        &self.reader
    }

    /// Disconnects now, resetting the card, and reports a failure (dropping does the
    /// same silently).
    pub fn disconnect(self) -> Result<(), ReaderError> {
        let link = self.take_link();
        match link {
            Some(link) => link
                .card
                .disconnect(Disposition::ResetCard)
                .map_err(|(_, e)| reader_error(e, Some(&self.reader))),
            None => Ok(()),
        }
    }

    fn take_link(&self) -> Option<Link> {
        self.link
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl CardTransport for PcscTransport {
    fn transmit(&self, command: Vec<u8>) -> Result<Vec<u8>, CardLinkError> {
        // The lock only serialises exchanges on this card; the guard is a plain buffer
        // and card handle, consistent even after a panic.
        let mut guard = self.link.lock().unwrap_or_else(PoisonError::into_inner);
        let Link { card, buffer } = guard.as_mut().ok_or(CardLinkError::Lost)?;
        // An answer with no bytes at all is no card's answer (every response ends in a
        // status word): the reader lost the card mid-exchange. vpcd reports a card pulled
        // away during a command this way, and some readers do too. Treated as the loss it
        // is, so the crew is told to hold the card still, not that it is unreadable.
        let outcome = match card.transmit(&command, buffer) {
            Ok([]) => Err(CardLinkError::Lost),
            Ok(response) => Ok(response.to_vec()),
            Err(error) => Err(link_error(error)),
        };
        match outcome {
            Ok(response) => Ok(response),
            Err(error) => {
                if error == CardLinkError::Lost {
                    // pcscd keeps the exclusive handle of a removed card: until it is
                    // released, even the same card put back cannot be connected to again
                    // (sharing violation). Release it now, not when the caller drops this
                    // transport; later exchanges fail as lost. Leave the card as it is:
                    // resetting (or powering down) a card pcscd has not yet seen leave
                    // makes pcscd report the reader empty at once, and a card put back
                    // before its next poll then goes unseen (pcsc-lite 1.9.9). A card
                    // that left the field has lost its security state anyway.
                    if let Some(link) = guard.take() {
                        disconnect_quietly(link, Disposition::LeaveCard, &self.reader);
                    }
                }
                Err(error)
            }
        }
    }
}

impl Drop for PcscTransport {
    fn drop(&mut self) {
        if let Some(link) = self.take_link() {
            disconnect_quietly(link, Disposition::ResetCard, &self.reader);
        }
    }
}

/// Disconnects, logging a failure (expected when the card is gone).
fn disconnect_quietly(link: Link, disposition: Disposition, reader: &str) {
    if let Err((_, error)) = link.card.disconnect(disposition) {
        tracing::debug!(reader, %error, "card disconnect failed");
    }
}

/// A failed exchange, as the card layer sees it. Only the library's error text is kept,
/// never APDU data.
fn link_error(error: Error) -> CardLinkError {
    match error {
        // pcsc-lite answers the exchange during which the card leaves with
        // `NotTransacted` (SCARD_E_NOT_TRANSACTED: the driver's transmit failed), and only
        // the calls after pcscd noticed the removal with `RemovedCard`.
        Error::RemovedCard | Error::ResetCard | Error::NoSmartcard | Error::NotTransacted => {
            CardLinkError::Lost
        }
        Error::Timeout => CardLinkError::Timeout,
        other => CardLinkError::Io {
            message: other.to_string(),
        },
    }
}

/// A failure to reach a reader or card. `reader` names the reader asked for, if any.
fn reader_error(error: Error, reader: Option<&str>) -> ReaderError {
    match error {
        Error::NoService | Error::ServiceStopped | Error::Shutdown => {
            ReaderError::ServiceUnavailable
        }
        Error::NoReadersAvailable => ReaderError::NoReaders,
        Error::UnknownReader | Error::ReaderUnavailable => match reader {
            Some(name) => ReaderError::ReaderNotFound { name: name.into() },
            None => ReaderError::NoReaders,
        },
        Error::NoSmartcard
        | Error::RemovedCard
        | Error::UnpoweredCard
        | Error::UnresponsiveCard => ReaderError::NoCard,
        Error::SharingViolation => ReaderError::CardInUse,
        Error::Timeout => ReaderError::Timeout,
        other => ReaderError::Other {
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_failures_map_to_link_errors() {
        for lost in [
            Error::RemovedCard,
            Error::ResetCard,
            Error::NoSmartcard,
            Error::NotTransacted,
        ] {
            assert_eq!(link_error(lost), CardLinkError::Lost, "{lost:?}");
        }
        assert_eq!(link_error(Error::Timeout), CardLinkError::Timeout);
        assert_eq!(
            link_error(Error::CommError),
            CardLinkError::Io {
                message: "An internal communications error has been detected".into()
            }
        );
    }

    #[test]
    fn reader_failures_map_to_reader_errors() {
        let check = |error, reader, expected: ReaderError| {
            assert_eq!(reader_error(error, reader), expected, "{error:?}");
        };
        for stopped in [Error::NoService, Error::ServiceStopped, Error::Shutdown] {
            check(stopped, None, ReaderError::ServiceUnavailable);
        }
        check(Error::NoReadersAvailable, None, ReaderError::NoReaders);
        check(Error::UnknownReader, None, ReaderError::NoReaders);
        check(
            Error::UnknownReader,
            Some("Virtual PCD 00 01"),
            ReaderError::ReaderNotFound {
                name: "Virtual PCD 00 01".into(),
            },
        );
        check(
            Error::ReaderUnavailable,
            Some("r"),
            ReaderError::ReaderNotFound { name: "r".into() },
        );
        for absent in [
            Error::NoSmartcard,
            Error::RemovedCard,
            Error::UnpoweredCard,
            Error::UnresponsiveCard,
        ] {
            check(absent, Some("r"), ReaderError::NoCard);
        }
        check(Error::SharingViolation, Some("r"), ReaderError::CardInUse);
        check(Error::Timeout, None, ReaderError::Timeout);
        check(
            Error::InvalidHandle,
            None,
            ReaderError::Other {
                message: "The supplied handle was invalid".into(),
            },
        );
    }

    #[test]
    fn reader_names_with_nul_are_not_found() {
        assert_eq!(
            reader_name("a\0b"),
            Err(ReaderError::ReaderNotFound {
                name: "a\0b".into()
            })
        );
        assert!(reader_name("Virtual PCD 00 00").is_ok());
    }
}
