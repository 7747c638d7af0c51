//! A virtual ICC for vsmartcard's `vpcd` driver: plugs a [`SoftwareCard`] into a real
//! pcscd, so anything speaking PC/SC (the tablet core's PC/SC transport, `pcsc_scan`,
//! OpenSC) sees a My Number card in the reader "Virtual PCD 00 00" (or "… 00 01").
//!
//! The driver (Debian's `vsmartcard-vpcd`, loaded by pcscd) listens on TCP port 35963 for
//! slot 0 and 35964 for slot 1; the card connects as the client. The card is inserted
//! while the connection is open and removed when it closes. Every message, both ways, is
//! a 2-byte big-endian length then that many bytes (vsmartcard `vpcd.c` `sendToVICC` /
//! `recvFromVICC`, `VirtualSmartcard.py` `run`):
//! - one byte from the driver is a control code: `00` power off, `01` power on, `02`
//!   reset (no answer to these), `04` get ATR (answered with the ATR). pcscd polls
//!   "get ATR" a few times a second to see whether the card is still there;
//! - anything longer is a command APDU, answered with the response APDU.
//!
//! Command data and response data are never logged; INS and SW at debug level only.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use mobile_core::{CardLinkError, CardTransport};

use crate::card::SoftwareCard;

/// TCP port of vpcd's first slot, the PC/SC reader "Virtual PCD 00 00".
pub const VPCD_PORT: u16 = 35963;
/// TCP port of vpcd's second slot, the PC/SC reader "Virtual PCD 00 01".
pub const VPCD_SECOND_PORT: u16 = 35964;
/// PC/SC name of the first slot's reader with Debian's `/etc/reader.conf.d/vpcd`.
pub const VPCD_READER_NAME: &str = "Virtual PCD 00 00";
/// PC/SC name of the second slot's reader.
pub const VPCD_SECOND_READER_NAME: &str = "Virtual PCD 00 01";

/// The ATR the card presents: the one a PC/SC reader builds for a contactless ISO/IEC
/// 14443-4 Type B card (PC/SC Part 3, 3.1.3.2.3), as the My Number card is Type B. The
/// ATQB fields are chosen, not copied from a real card:
///
/// ```text
/// 3B           TS  direct convention
/// 88           T0  TD1 follows; 8 historical bytes
/// 80           TD1 TD2 follows; T=0
/// 01           TD2 T=1
/// 00 00 00 00  ATQB application data (zero: none)
/// 00           ATQB protocol info 1: 106 kbit/s both ways only
/// 81           ATQB protocol info 2: max frame 256 bytes; ISO/IEC 14443-4 compliant
/// 71           ATQB protocol info 3: FWI 7; CID supported, NAD not
/// 00           MBLI 0 (no maximum buffer length indicated); RFU
/// F9           TCK: XOR of T0 to the last historical byte
/// ```
pub const MY_NUMBER_CARD_ATR: [u8; 13] = [
    0x3B, 0x88, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x81, 0x71, 0x00, 0xF9,
];

const CTRL_POWER_OFF: u8 = 0x00;
const CTRL_POWER_ON: u8 = 0x01;
const CTRL_RESET: u8 = 0x02;
const CTRL_GET_ATR: u8 = 0x04;
/// `6F 00` (no precise diagnosis): the answer to an APDU the card could not take, e.g.
/// while powered off.
const SW_NO_DIAGNOSIS: [u8; 2] = [0x6F, 0x00];
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// One slot of the vpcd driver: where a virtual card connects to be inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VirtualCardSlot {
    addr: SocketAddr,
}

impl VirtualCardSlot {
    /// The first slot on this machine, `127.0.0.1:35963` ("Virtual PCD 00 00").
    pub const FIRST: VirtualCardSlot = VirtualCardSlot::at(loopback(VPCD_PORT));
    /// The second slot on this machine, `127.0.0.1:35964` ("Virtual PCD 00 01").
    pub const SECOND: VirtualCardSlot = VirtualCardSlot::at(loopback(VPCD_SECOND_PORT));

    /// The slot whose driver listens on `addr`.
    pub const fn at(addr: SocketAddr) -> Self {
        VirtualCardSlot { addr }
    }

    /// Where the driver listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Inserts `card`: connects to the driver and serves it on a background thread until
    /// [`InsertedCard::remove`] (or drop). The card is put back and powered as it enters
    /// the reader, and powered off when it leaves. Fails with a message naming the fix
    /// when nothing listens there.
    pub fn insert(&self, card: Arc<SoftwareCard>) -> io::Result<InsertedCard> {
        let addr = self.addr;
        let stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "pcscd with the vpcd driver is not listening on {addr}: \
                     run scripts/pcscd.sh start ({e})"
                ),
            )
        })?;
        stream.set_nodelay(true)?;
        let control = stream.try_clone()?;
        card.put_back();
        let shared = Arc::new(Shared::default());
        let thread = {
            let (card, shared) = (Arc::clone(&card), Arc::clone(&shared));
            std::thread::Builder::new()
                .name(format!("vpicc-{}", addr.port()))
                .spawn(move || {
                    let mut stream = stream;
                    let result = serve(&card, &mut stream, &shared);
                    // Errors after we closed the connection ourselves are expected.
                    let expected = shared.closing.load(Ordering::SeqCst);
                    // Also on errors: the handle's clone of the socket keeps it open.
                    let _ = stream.shutdown(Shutdown::Both);
                    card.power_off();
                    if expected { Ok(()) } else { result }
                })?
        };
        tracing::debug!(%addr, "virtual card inserted");
        Ok(InsertedCard {
            card,
            control,
            shared,
            thread: Some(thread),
        })
    }
}

const fn loopback(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// What the serving thread and the handle share.
#[derive(Debug, Default)]
struct Shared {
    /// APDUs answered.
    served: AtomicUsize,
    /// APDUs still to answer before the card is pulled away, if scheduled.
    budget: Mutex<Option<usize>>,
    /// Set when this side closes the connection.
    closing: AtomicBool,
}

/// A software card sitting in a vpcd slot. Removing it (or dropping the handle) closes
/// the connection, which pcscd sees as the card leaving the reader.
#[derive(Debug)]
pub struct InsertedCard {
    card: Arc<SoftwareCard>,
    control: TcpStream,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl InsertedCard {
    /// The card in the slot.
    pub fn card(&self) -> &Arc<SoftwareCard> {
        &self.card
    }

    /// Command APDUs answered so far (control messages such as "get ATR" not counted).
    pub fn apdus_served(&self) -> usize {
        self.shared.served.load(Ordering::SeqCst)
    }

    /// Whether the connection is still open (false once pulled away by
    /// [`InsertedCard::remove_after`], by the driver, or by the card's own removal).
    pub fn is_inserted(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Answers `apdus` more command APDUs, then pulls the card away (closes the
    /// connection right after the last answer; at once for 0): a card moved off the
    /// reader mid-read.
    pub fn remove_after(&self, apdus: usize) {
        *self
            .shared
            .budget
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(apdus);
        if apdus == 0 {
            self.close();
        }
    }

    /// Pulls the card out: closes the connection and waits for the serving thread. Fails
    /// if serving had failed before (a malformed message, a broken connection).
    pub fn remove(mut self) -> io::Result<()> {
        self.close();
        self.join()
    }

    fn close(&self) {
        self.shared.closing.store(true, Ordering::SeqCst);
        // Already closed by the other side: nothing left to do.
        let _ = self.control.shutdown(Shutdown::Both);
    }

    fn join(&mut self) -> io::Result<()> {
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the vpicc thread panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for InsertedCard {
    fn drop(&mut self) {
        self.close();
        if let Err(error) = self.join() {
            tracing::warn!(%error, "virtual card failed while inserted");
        }
    }
}

/// Serves one connection until either side closes it.
fn serve(card: &SoftwareCard, stream: &mut TcpStream, shared: &Shared) -> io::Result<()> {
    while let Some(message) = read_message(stream)? {
        match message.as_slice() {
            [] => tracing::warn!("empty vpcd message ignored"),
            [CTRL_POWER_OFF] => card.power_off(),
            [CTRL_POWER_ON] => card.power_on(),
            [CTRL_RESET] => card.reset(),
            [CTRL_GET_ATR] => write_message(stream, &MY_NUMBER_CARD_ATR)?,
            [code] => tracing::warn!(code, "unknown vpcd control code ignored"),
            command => {
                let ins = command[1];
                let response = match card.transmit(command.to_vec()) {
                    Ok(response) => response,
                    Err(CardLinkError::Lost) => {
                        tracing::debug!("card pulled away: closing the vpcd connection");
                        break;
                    }
                    Err(error) => {
                        tracing::debug!(%error, "card could not answer");
                        SW_NO_DIAGNOSIS.to_vec()
                    }
                };
                let sw = &response[response.len().saturating_sub(2)..];
                tracing::debug!(
                    ins = format_args!("{ins:02X}"),
                    sw = format_args!("{sw:02X?}"),
                    "APDU"
                );
                // Counted before the answer goes out: the reader side may look at the count
                // the moment it has the answer, and must never see it one short.
                shared.served.fetch_add(1, Ordering::SeqCst);
                write_message(stream, &response)?;
                let mut budget = shared.budget.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(left) = budget.as_mut() {
                    *left = left.saturating_sub(1);
                    if *left == 0 {
                        tracing::debug!("scheduled removal: closing the vpcd connection");
                        break;
                    }
                }
            }
        }
    }
    shared.closing.store(true, Ordering::SeqCst);
    Ok(())
}

/// Reads one length-prefixed message; `None` when the driver closed the connection (or
/// this side shut it down) between messages.
fn read_message(stream: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    // The vpcd driver writes the length prefix and the APDU in two sends without
    // TCP_NODELAY, so Nagle holds the APDU back until the prefix is acknowledged, and
    // Linux delays that ACK by up to 40 ms: ~40 ms per APDU, which no real reader has.
    // Acknowledge at once (quick-ACK mode is not sticky, so re-arm it before every read).
    quick_ack(stream);
    let mut length = [0; 2];
    match stream.read_exact(&mut length) {
        Ok(()) => {}
        Err(e) if is_closed(&e) => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut message = vec![0; usize::from(u16::from_be_bytes(length))];
    stream.read_exact(&mut message)?;
    Ok(Some(message))
}

#[cfg(target_os = "linux")]
fn quick_ack(stream: &TcpStream) {
    // Best effort: without it the card still works, only slower.
    let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
}

#[cfg(not(target_os = "linux"))]
fn quick_ack(_: &TcpStream) {}

fn is_closed(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
    )
}

fn write_message(stream: &mut TcpStream, message: &[u8]) -> io::Result<()> {
    let length = u16::try_from(message.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "message over 65535 bytes"))?;
    let mut framed = Vec::with_capacity(2 + message.len());
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(message);
    stream.write_all(&framed)
}

#[cfg(test)]
mod tests;
