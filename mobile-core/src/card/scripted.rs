//! A scripted card for unit tests: expects an exact sequence of commands and plays back
//! the link's answers. A command out of script, or one too many, fails the test, so a
//! script also proves what was *not* sent (e.g. no VERIFY with a PIN).

use std::collections::VecDeque;
use std::sync::Mutex;

use super::transport::{CardLinkError, CardTransport};

/// One scripted exchange: the expected command and the link's answer.
pub(crate) type Step = (Vec<u8>, Result<Vec<u8>, CardLinkError>);

/// A transport that expects an exact sequence of commands and plays back responses.
pub(crate) struct ScriptedCard {
    steps: Mutex<VecDeque<Step>>,
}

impl ScriptedCard {
    pub(crate) fn new(steps: Vec<Step>) -> Self {
        ScriptedCard {
            steps: Mutex::new(steps.into()),
        }
    }

    pub(crate) fn assert_done(&self) {
        let left = self.steps.lock().unwrap().len();
        assert_eq!(left, 0, "{left} scripted exchanges not used");
    }
}

impl CardTransport for ScriptedCard {
    fn transmit(&self, command: Vec<u8>) -> Result<Vec<u8>, CardLinkError> {
        let (expected, response) = self
            .steps
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| panic!("unexpected extra command {command:02X?}"));
        assert_eq!(command, expected, "command out of script");
        response
    }
}

/// `data` then 9000.
pub(crate) fn ok(data: &[u8]) -> Result<Vec<u8>, CardLinkError> {
    let mut r = data.to_vec();
    r.extend_from_slice(&[0x90, 0x00]);
    Ok(r)
}

/// A bare status word.
pub(crate) fn sw(sw: u16) -> Result<Vec<u8>, CardLinkError> {
    Ok(sw.to_be_bytes().to_vec())
}
