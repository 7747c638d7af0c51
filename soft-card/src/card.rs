//! The card itself: [`SoftwareCard`], an APDU responder modelling the card's two
//! applications, its PINs and its signing key, and [`SoftwareCardBuilder`], which chooses
//! its contents.
//!
//! [`SoftwareCard`] implements [`mobile_core::CardTransport`], so the tablet core reads it
//! exactly as it reads a real card over NFC; [`crate::vpicc`] plugs the same card into a
//! real pcscd. Power: [`SoftwareCard::power_off`], [`SoftwareCard::power_on`] and
//! [`SoftwareCard::reset`] forget the selection and verified PINs, never the counters; a
//! card pulled away ([`SoftwareCard::remove`], [`SoftwareCard::remove_after`]) makes
//! `transmit` fail with [`CardLinkError::Lost`].

use std::sync::{Mutex, MutexGuard, PoisonError};

use mobile_core::card::jpki::{
    EF_AUTH_CERTIFICATE, EF_TOKEN_INFO, JPKI_AP_AID, MY_NUMBER_CARD_TOKEN,
};
use mobile_core::{CardLinkError, CardTransport};

use crate::commands;
use crate::error::{Error, Result};
use crate::facts::{self, CardHolderFacts};
use crate::files::{
    Application, CARD_INFO_AP_AID, CardPin, CardState, EF_AUTH_CA_CERTIFICATE, EF_AUTH_KEY,
    EF_AUTH_PIN, EF_BASIC_FACTS, EF_CARD_INFO_PIN, ElementaryFile, FileBody, PIN_MAX_TRIES,
};

/// PIN of a card built without choosing one (both PINs).
pub const DEFAULT_TEST_PIN: &str = "1234";

/// A My Number card in software, answering APDUs like the physical card. Thread-safe;
/// share it as `Arc<SoftwareCard>` between the in-process path and a virtual reader.
#[derive(Debug)]
pub struct SoftwareCard {
    applications: Vec<Application>,
    public_key: Option<rsa::PublicKey>,
    state: Mutex<CardState>,
}

impl SoftwareCard {
    /// A present card whose EF 000A holds `certificate_der`; no key, no CA certificate,
    /// no card-info application, PIN [`DEFAULT_TEST_PIN`].
    pub fn new(certificate_der: Vec<u8>) -> Self {
        SoftwareCardBuilder::new(certificate_der)
            .build()
            .expect("the default PINs are well-formed")
    }

    /// Chooses everything: key, PINs and their tries left, facts.
    pub fn builder(certificate_der: Vec<u8>) -> SoftwareCardBuilder {
        SoftwareCardBuilder::new(certificate_der)
    }

    /// The same card, already away from the reader.
    pub fn removed(self) -> Self {
        self.remove();
        self
    }

    /// Pulls the card away: every exchange fails with [`CardLinkError::Lost`]. It loses
    /// power, so its security state is gone when it comes back.
    pub fn remove(&self) {
        let mut state = self.state();
        state.present = false;
        state.powered = false;
        state.exchanges_left = None;
        state.clear_security();
    }

    /// Puts the card back. It powers up fresh: nothing selected, no PIN verified.
    pub fn put_back(&self) {
        let mut state = self.state();
        state.present = true;
        state.powered = true;
        state.exchanges_left = None;
        state.clear_security();
    }

    /// Answers `exchanges` more commands, then is pulled away mid-read.
    pub fn remove_after(&self, exchanges: usize) {
        self.state().exchanges_left = Some(exchanges);
    }

    /// Whether the card is on the reader.
    pub fn is_present(&self) -> bool {
        self.state().present
    }

    /// Cuts the power: selection and verified PINs are lost; `transmit` fails with
    /// [`CardLinkError::Io`] until [`SoftwareCard::power_on`]. PIN counters persist.
    pub fn power_off(&self) {
        let mut state = self.state();
        state.powered = false;
        state.clear_security();
    }

    /// Powers the card up fresh (nothing selected, no PIN verified). PIN counters persist.
    pub fn power_on(&self) {
        let mut state = self.state();
        state.powered = true;
        state.clear_security();
    }

    /// A warm reset: as [`SoftwareCard::power_off`] then [`SoftwareCard::power_on`].
    pub fn reset(&self) {
        self.power_on();
    }

    /// Whether the card is powered.
    pub fn is_powered(&self) -> bool {
        self.state().powered
    }

    /// How many commands were sent to the card so far (including failed ones).
    pub fn exchanges(&self) -> usize {
        self.state().exchanges
    }

    /// Tries left for `pin`: [`PIN_MAX_TRIES`] down to 0 (blocked).
    pub fn pin_tries_left(&self, pin: CardPin) -> u8 {
        self.state().tries_left[pin.index()]
    }

    /// Whether `pin` is verified in the current session.
    pub fn is_pin_verified(&self, pin: CardPin) -> bool {
        self.state().verified[pin.index()]
    }

    /// The user-authentication certificate (EF `000A`).
    pub fn certificate_der(&self) -> &[u8] {
        self.binary(&JPKI_AP_AID, EF_AUTH_CERTIFICATE)
            .expect("every card holds a certificate")
    }

    /// The CA certificate (EF `000B`), if the card holds one.
    pub fn ca_certificate_der(&self) -> Option<&[u8]> {
        self.binary(&JPKI_AP_AID, EF_AUTH_CA_CERTIFICATE)
    }

    /// The public half of the user-authentication key, if the card has one.
    pub fn public_key(&self) -> Option<&rsa::PublicKey> {
        self.public_key.as_ref()
    }

    fn binary(&self, aid: &[u8], fid: [u8; 2]) -> Option<&[u8]> {
        let application = self.applications.iter().find(|a| a.aid == aid)?;
        match &application.files.iter().find(|f| f.id == fid)?.body {
            FileBody::Binary { content, .. } => Some(content),
            _ => None,
        }
    }

    fn state(&self) -> MutexGuard<'_, CardState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl CardTransport for SoftwareCard {
    fn transmit(&self, command: Vec<u8>) -> Result<Vec<u8>, CardLinkError> {
        let mut state = self.state();
        state.exchanges += 1;
        match state.exchanges_left {
            Some(0) => {
                drop(state);
                self.remove();
                return Err(CardLinkError::Lost);
            }
            Some(n) => state.exchanges_left = Some(n - 1),
            None => {}
        }
        if !state.present {
            return Err(CardLinkError::Lost);
        }
        if !state.powered {
            return Err(CardLinkError::Io {
                message: "the card is powered off".into(),
            });
        }
        Ok(commands::respond(&self.applications, &mut state, &command))
    }
}

/// A PIN as the builder takes it: digits and tries left.
#[derive(Clone)]
struct PinSetting {
    digits: String,
    tries_left: u8,
}

/// Test PINs are still PINs: Debug shows the tries, never the digits.
impl std::fmt::Debug for PinSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinSetting")
            .field("tries_left", &self.tries_left)
            .finish_non_exhaustive()
    }
}

impl Default for PinSetting {
    fn default() -> Self {
        PinSetting {
            digits: DEFAULT_TEST_PIN.into(),
            tries_left: PIN_MAX_TRIES,
        }
    }
}

impl PinSetting {
    fn checked(&self, which: &'static str) -> Result<[u8; 4]> {
        if self.tries_left > PIN_MAX_TRIES {
            return Err(Error::PinSetting {
                which,
                problem: format!("at most {PIN_MAX_TRIES} tries"),
            });
        }
        let digits = <[u8; 4]>::try_from(self.digits.as_bytes())
            .ok()
            .filter(|d| d.iter().all(u8::is_ascii_digit));
        digits.ok_or_else(|| Error::PinSetting {
            which,
            problem: "a PIN is exactly four ASCII digits".into(),
        })
    }
}

/// Builds a [`SoftwareCard`] with chosen contents, for tests.
///
/// ```
/// use soft_card::{CardPin, SoftwareCard};
/// let card = SoftwareCard::builder(vec![0x30, 0x00])
///     .auth_pin("0427")
///     .auth_pin_tries_left(1)
///     .build()
///     .unwrap();
/// assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 1);
/// ```
#[derive(Debug)]
#[must_use]
pub struct SoftwareCardBuilder {
    certificate_der: Vec<u8>,
    ca_certificate_der: Option<Vec<u8>>,
    key: Option<rsa::PrivateKey>,
    auth_pin: PinSetting,
    facts: Option<CardHolderFacts>,
    card_info_pin: PinSetting,
}

impl SoftwareCardBuilder {
    /// A card holding `certificate_der` in EF `000A`, and nothing optional.
    pub fn new(certificate_der: Vec<u8>) -> Self {
        SoftwareCardBuilder {
            certificate_der,
            ca_certificate_der: None,
            key: None,
            auth_pin: PinSetting::default(),
            facts: None,
            card_info_pin: PinSetting::default(),
        }
    }

    /// Puts the CA certificate in EF `000B`.
    pub fn ca_certificate(mut self, der: Vec<u8>) -> Self {
        self.ca_certificate_der = Some(der);
        self
    }

    /// Puts the user-authentication private key in EF `0017`. Without it, EF `0017` does
    /// not exist.
    pub fn key(mut self, key: rsa::PrivateKey) -> Self {
        self.key = Some(key);
        self
    }

    /// The auth PIN's four digits (default [`DEFAULT_TEST_PIN`]).
    pub fn auth_pin(mut self, digits: &str) -> Self {
        self.auth_pin.digits = digits.into();
        self
    }

    /// Tries left on the auth PIN (default 3; 0 is blocked).
    pub fn auth_pin_tries_left(mut self, tries: u8) -> Self {
        self.auth_pin.tries_left = tries;
        self
    }

    /// Adds the card-info application holding `facts`. Without it, that application does
    /// not exist (SELECT answers `6A 82`).
    pub fn facts(mut self, facts: CardHolderFacts) -> Self {
        self.facts = Some(facts);
        self
    }

    /// The card-info PIN's four digits (default [`DEFAULT_TEST_PIN`]).
    pub fn card_info_pin(mut self, digits: &str) -> Self {
        self.card_info_pin.digits = digits.into();
        self
    }

    /// Tries left on the card-info PIN (default 3; 0 is blocked).
    pub fn card_info_pin_tries_left(mut self, tries: u8) -> Self {
        self.card_info_pin.tries_left = tries;
        self
    }

    /// The card, present and powered. Fails for a PIN that is not four ASCII digits, more
    /// than [`PIN_MAX_TRIES`] tries, or facts too long to encode.
    pub fn build(self) -> Result<SoftwareCard> {
        let auth_digits = self.auth_pin.checked("auth PIN")?;
        let card_info_digits = self.card_info_pin.checked("card-info PIN")?;
        let mut token = MY_NUMBER_CARD_TOKEN.to_vec();
        token.resize(usize::from(mobile_core::card::jpki::TOKEN_INFO_LEN), b' ');
        let free = |id, content| ElementaryFile {
            id,
            body: FileBody::Binary {
                content,
                read_requires: None,
            },
        };
        let mut jpki = vec![
            free(EF_TOKEN_INFO, token),
            free(EF_AUTH_CERTIFICATE, self.certificate_der),
            ElementaryFile {
                id: EF_AUTH_PIN,
                body: FileBody::Pin {
                    pin: CardPin::UserAuthentication,
                    digits: auth_digits,
                },
            },
        ];
        if let Some(der) = self.ca_certificate_der {
            jpki.push(free(EF_AUTH_CA_CERTIFICATE, der));
        }
        let public_key = self.key.as_ref().map(rsa::PrivateKey::to_public_key);
        if let Some(key) = self.key {
            jpki.push(ElementaryFile {
                id: EF_AUTH_KEY,
                body: FileBody::SigningKey(Box::new(key)),
            });
        }
        let mut applications = vec![Application {
            aid: JPKI_AP_AID.to_vec(),
            files: jpki,
        }];
        if let Some(facts) = &self.facts {
            applications.push(Application {
                aid: CARD_INFO_AP_AID.to_vec(),
                files: vec![
                    ElementaryFile {
                        id: EF_CARD_INFO_PIN,
                        body: FileBody::Pin {
                            pin: CardPin::CardInfo,
                            digits: card_info_digits,
                        },
                    },
                    ElementaryFile {
                        id: EF_BASIC_FACTS,
                        body: FileBody::Binary {
                            content: facts::encode(facts)?,
                            read_requires: Some(CardPin::CardInfo),
                        },
                    },
                ],
            });
        }
        Ok(SoftwareCard {
            applications,
            public_key,
            state: Mutex::new(CardState::new([
                self.auth_pin.tries_left,
                self.card_info_pin.tries_left,
            ])),
        })
    }
}
