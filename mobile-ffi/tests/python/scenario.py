"""The paramedics' scene workflow through the generated Python bindings of mobile-ffi.

Run by mobile-ffi/tests/python_bindings.rs against a live local stack; it is the app here.
The card transport is implemented in Python, as the Android or iOS app implements it
over NFC, and forwards every APDU to a software My Number card in the library (TestCard):
each exchange crosses the FFI twice, core -> Python -> card.

Environment:
  MYNA_EDGE_URL, MYNA_DEVICE_TOKEN, MYNA_HOSPITAL_ID: the edge, this tablet, a hospital.
  MYNA_STORE_DIR: a directory for the tablet's local stores.
  MYNA_CARDS: JSON file, a list of cards {"certificate", "key" (hex DER), "pin"}.
  MYNA_RESULTS: JSON file this script writes, for the Rust side's access-log checks.

Exits non-zero (an AssertionError or an uncaught error) when any expectation fails.
"""

import asyncio
import datetime
import json
import os

import mobile_ffi as ffi
from mobile_ffi import (
    BasicFacts,
    Consent,
    DifficultyReason,
    HandoffRequest,
    HandoffStatus,
    Incident,
    IncidentStep,
    Location,
    MobileFfiError,
    Tablet,
    TabletConfig,
    TestCard,
    TransportError,
    Vitals,
)
# mobile-core's own records and enums, exported from their crate as they are.
from mobile_core import TabletAccessKind, WriteKind
# The domain's few types the apps get as they are (identity strength, sex, scene, alert kind).
from myna_domain import AlertKind, Assurance, SceneKind, Sex

EDGE_URL = os.environ["MYNA_EDGE_URL"]
DEVICE_TOKEN = os.environ["MYNA_DEVICE_TOKEN"]
HOSPITAL_ID = os.environ["MYNA_HOSPITAL_ID"]
STORE_DIR = os.environ["MYNA_STORE_DIR"]
# An address nothing listens on: the tablet without signal.
NO_SIGNAL_URL = "http://127.0.0.1:9"
# The local stack's first hospital (Setagaya), to list hospitals nearest first.
SETAGAYA = Location(lat=35.6466, lon=139.6533)


class SoftCardTransport(ffi.CardTransport):
    """The app's card link, as IsoDep.transceive would be: each APDU goes to the card."""

    def __init__(self, card):
        self.card = card
        self.commands = 0

    def transmit(self, command: bytes) -> bytes:
        self.commands += 1
        # The card's TransportError (card pulled away) propagates as the app's would.
        return self.card.transmit(command)


class PulledAwayCard(ffi.CardTransport):
    """A link whose tag is lost at once (Android TagLostException)."""

    def transmit(self, command: bytes) -> bytes:
        raise TransportError.Lost()


class CrashingDriver(ffi.CardTransport):
    """A link that throws something it should not: the core must not crash."""

    def transmit(self, command: bytes) -> bytes:
        raise RuntimeError("NFC driver crashed")


def load_cards():
    with open(os.environ["MYNA_CARDS"], encoding="utf-8") as f:
        cards = json.load(f)
    return [
        (TestCard(bytes.fromhex(c["certificate"]), bytes.fromhex(c["key"]), c["pin"]), c["pin"])
        for c in cards
    ]


def open_tablet(store: str, key: bytes, edge_url: str = EDGE_URL) -> Tablet:
    """The app's start: its store (sealed with a key from the platform key store), its edge."""
    return Tablet.open(
        TabletConfig(
            store_path=os.path.join(STORE_DIR, store),
            storage_key=key,
            edge_base_url=edge_url,
            device_token=DEVICE_TOKEN,
            edge_ca_der=None,
        )
    )


TABLET = open_tablet("tablet.sqlite3", os.urandom(32))


def new_incident(crew: str) -> Incident:
    return TABLET.start_incident(crew)


async def expect_error(kind, awaitable, message_start: str) -> MobileFfiError:
    """Awaits `awaitable`, which must raise `kind` with a message starting as given."""
    try:
        result = await awaitable
    except kind as error:
        assert str(error).startswith(message_start), repr(error)
        return error
    raise AssertionError(f"expected {kind.__name__}, got {result!r}")


def chest_pain(scene=None) -> HandoffRequest:
    """The handoff; where the patient was found only when `scene` is given (the field
    defaults to none, as for an app that does not ask)."""
    if scene is None:
        return HandoffRequest(
            hospital_id=HOSPITAL_ID,
            chief_complaint="胸痛 Chest pain",
            eta_minutes=8,
            vitals=Vitals(heart_rate=110, spo2_percent=94),
        )
    return HandoffRequest(
        hospital_id=HOSPITAL_ID,
        chief_complaint="胸痛 Chest pain",
        eta_minutes=8,
        vitals=Vitals(heart_rate=110, spo2_percent=94),
        scene=scene,
    )


async def consent_given(card: TestCard) -> dict:
    """Card read -> face photo -> consent Given -> summary -> hospitals -> handoff."""
    incident = new_incident("crew-py-0001")
    assert incident.step() == IncidentStep.STARTED()
    transport = SoftCardTransport(card)
    reading = await incident.read_card(transport)
    assert transport.commands > 0 and card.exchanges() == transport.commands
    assert not reading.expired and not reading.not_yet_valid, reading
    assert incident.step() == IncidentStep.CARD_READ()

    confirmed = await incident.confirm_identity(True)
    assert confirmed.incident_id == incident.incident_id()
    assert confirmed.assurance == Assurance.CARD_AND_PHOTO and not confirmed.queued

    assert await incident.record_consent(Consent.GIVEN()) == Consent.GIVEN()
    summary = await incident.fetch_summary()
    assert summary.patient.patient_id and summary.patient.name, summary.patient
    assert summary.records, "a carded patient has records"
    for record in summary.records:
        assert record.kind and record.kind_label and record.source and record.text, record
        assert len(record.date) == 10, record
    # Structured alerts: styled by kind, never by parsing; each line starts with its tag.
    allergies = (AlertKind.DRUG_ALLERGY, AlertKind.OTHER_ALLERGY)
    for alert in summary.alerts:
        assert isinstance(alert.kind, AlertKind), alert
        assert alert.line.en.startswith(alert.label.en) and alert.label.en, alert
        assert alert.line.ja.startswith(alert.label.ja) and alert.label.ja, alert
        assert alert.subject.en and len(alert.date) == 10, alert
        assert (alert.severity is not None) == (alert.kind in allergies), alert
    assert isinstance(summary.assembled_at, datetime.datetime), summary.assembled_at

    # Shown again from the tablet's sealed copy: logged on the tablet at once, and on the
    # edge once delivered.
    again = incident.summary_again()
    assert again.patient == summary.patient and again.records == summary.records
    mine = [a for a in TABLET.access_records(10) if a.incident_id == incident.incident_id()]
    assert [a.kind for a in mine] == [
        TabletAccessKind.SUMMARY_SHOWN_AGAIN,
        TabletAccessKind.SUMMARY_FETCHED,
    ], mine
    assert not mine[0].on_edge and mine[1].on_edge, mine
    report = await TABLET.deliver_now()
    assert report.delivered == 1 and report.pending == 0, report
    assert all(a.on_edge for a in TABLET.access_records(10)), TABLET.access_records(10)

    nearest = await incident.hospitals(SETAGAYA)
    assert nearest and all(h.distance_m is not None for h in nearest), nearest
    assert [h.distance_m for h in nearest] == sorted(h.distance_m for h in nearest)
    every = await incident.hospitals(None)
    assert HOSPITAL_ID in {h.id for h in every}, every

    handoff = await incident.hand_off(chest_pain(SceneKind.HOME))
    assert handoff.hospital_id == HOSPITAL_ID and handoff.records_shared, handoff
    state = await incident.handoff_state(handoff.handoff_id, None)
    assert state.handoff_id == handoff.handoff_id and state.hospital_id == HOSPITAL_ID
    assert isinstance(state.status, (HandoffStatus.SENT, HandoffStatus.ACCEPTED)), state
    assert incident.step() == IncidentStep.HANDED_OFF()

    incident.close()
    assert incident.step() == IncidentStep.CLOSED()
    steps = [record.step for record in incident.history()]
    assert steps[0] == IncidentStep.STARTED() and steps[-1] == IncidentStep.CLOSED(), steps
    return {
        "incident_id": incident.incident_id(),
        "patient_id": summary.patient.patient_id,
        "kinds": sorted({record.kind for record in summary.records}),
        "view_id": mine[0].id,
    }


async def consent_refused(card: TestCard) -> dict:
    """After a refusal the summary is refused on the tablet; the handoff goes without it."""
    incident = new_incident("crew-py-0002")
    await incident.read_card(SoftCardTransport(card))
    await incident.confirm_identity(True)
    assert await incident.record_consent(Consent.REFUSED()) == Consent.REFUSED()

    summary = None
    try:
        summary = await incident.fetch_summary()
    except MobileFfiError.IllegalStep as error:
        assert "consent refused" in str(error), str(error)
    assert summary is None, "no summary after a refusal"
    assert incident.step() == IncidentStep.CONSENT_RECORDED(Consent.REFUSED())

    handoff = await incident.hand_off(chest_pain())
    assert not handoff.records_shared, handoff
    withdrawn = await incident.withdraw_handoff(handoff.handoff_id)
    assert withdrawn is not None and withdrawn.status == HandoffStatus.WITHDRAWN(), withdrawn
    incident.close()
    return {"incident_id": incident.incident_id()}


async def card_link_failures(card: TestCard) -> dict:
    """A failing link reaches the crew as an actionable error, never a crash."""
    incident = new_incident("crew-py-0003")
    await expect_error(
        MobileFfiError.CardLost,
        incident.read_card(PulledAwayCard()),
        "Card moved away: hold it flat against the reader",
    )
    await expect_error(
        MobileFfiError.CardReaderFailure,
        incident.read_card(CrashingDriver()),
        "Card reader problem",
    )
    # The software card itself pulled away: its TransportError crosses Rust -> Python -> Rust.
    card.remove()
    await expect_error(
        MobileFfiError.CardLost, incident.read_card(SoftCardTransport(card)), "Card moved away"
    )
    assert incident.step() == IncidentStep.STARTED()
    card.tap()
    await incident.read_card(SoftCardTransport(card))
    await expect_error(
        MobileFfiError.PhotoMismatch, incident.confirm_identity(False), "Face photo does not match"
    )
    assert incident.step() == IncidentStep.CARD_READ()
    await expect_error(
        MobileFfiError.IllegalStep, incident.record_consent(Consent.GIVEN()), "Not possible now"
    )
    incident.close()
    return {"incident_id": incident.incident_id()}


async def pin_and_difficult_consent(card: TestCard, pin: str) -> dict:
    """PIN path: a wrong PIN costs a try and says so; the right one verifies."""
    incident = new_incident("crew-py-0004")
    transport = SoftCardTransport(card)
    await incident.read_card(transport)
    await expect_error(
        MobileFfiError.PinFormatInvalid,
        incident.identify_with_pin(transport, "12a4"),
        "Enter the 4-digit PIN",
    )
    assert card.pin_tries_left() == 3
    wrong = "0000" if pin != "0000" else "1111"
    await expect_error(
        MobileFfiError.WrongPin,
        incident.identify_with_pin(transport, wrong),
        "Wrong PIN, 2 tries left",
    )
    assert card.pin_tries_left() == 2 and incident.step() == IncidentStep.CARD_READ()
    confirmed = await incident.identify_with_pin(transport, pin)
    assert confirmed.assurance == Assurance.PIN_VERIFIED, confirmed
    assert card.pin_tries_left() == 3, "a verified PIN resets the counter"

    difficult = Consent.DIFFICULT(DifficultyReason.OTHER("intubated"))
    await expect_error(
        MobileFfiError.ConsentReasonInvalid,
        incident.record_consent(Consent.DIFFICULT(DifficultyReason.OTHER("  "))),
        "Choose why consent cannot be obtained",
    )
    assert await incident.record_consent(difficult) == difficult
    summary = await incident.fetch_summary()
    assert summary.records
    incident.close()
    return {"incident_id": incident.incident_id()}


async def offline_then_killed_then_back(card: TestCard) -> dict:
    """No signal at the scene: identity and consent wait in the outbox; the app is killed;
    restarted with signal, it resumes the incident and delivers each write once."""
    key = os.urandom(32)
    offline = open_tablet("scene.sqlite3", key, NO_SIGNAL_URL)
    incident = offline.start_incident("crew-py-0005")
    await incident.read_card(SoftCardTransport(card))
    confirmed = await incident.confirm_identity(True)
    assert confirmed.queued and confirmed.assurance == Assurance.CARD_AND_PHOTO, confirmed
    assert await incident.record_consent(Consent.GIVEN()) == Consent.GIVEN()
    await expect_error(MobileFfiError.EdgeUnreachable, incident.fetch_summary(), "No connection")
    queued = offline.queued_writes()
    assert [w.kind for w in queued] == [WriteKind.OPEN_INCIDENT, WriteKind.CONSENT]
    assert all(isinstance(w.queued_at, datetime.datetime) for w in queued), queued
    incident_id = incident.incident_id()
    del incident, offline  # killed: nothing closed, nothing flushed

    back = open_tablet("scene.sqlite3", key)
    assert [u.incident_id for u in back.unfinished_incidents()] == [incident_id]
    resumed = back.resume_incident(incident_id)
    assert resumed.step() == IncidentStep.CONSENT_RECORDED(Consent.GIVEN()), resumed.step()
    report = await back.deliver_now()
    assert (report.delivered, report.rejected, report.pending) == (2, 0, 0), report
    summary = await resumed.fetch_summary()
    assert summary.records
    resumed.close()
    assert back.unfinished_incidents() == []
    # Closed: the copy is wiped and cannot be shown again.
    await expect_error(MobileFfiError.IllegalStep, _call(resumed.summary_again), "Not possible now")
    return {"incident_id": incident_id}


async def _call(function):
    return function()


async def disaster_mode_refused() -> dict:
    """No disaster declared: the four basic facts do not identify anyone (logged)."""
    incident = new_incident("crew-py-0006")
    assert await incident.active_disasters() == []
    facts = BasicFacts(
        name="山田 太郎",
        birth_date="1950-04-01",
        sex=Sex.MALE,
        address_or_insurer="東京都世田谷区三軒茶屋1-1",
        is_insurer=False,
    )
    await expect_error(
        MobileFfiError.Rejected,
        incident.identify_by_basic_facts(facts),
        "No disaster declared for this area now: identify the patient by card",
    )
    assert incident.step() == IncidentStep.STARTED()
    incident.close()
    return {"incident_id": incident.incident_id()}


async def main() -> None:
    (given_card, _), (refused_card, _), (pin_card, pin) = load_cards()
    results = {
        "given": await consent_given(given_card),
        "refused": await consent_refused(refused_card),
        "link_failures": await card_link_failures(refused_card),
        "pin": await pin_and_difficult_consent(pin_card, pin),
        "offline": await offline_then_killed_then_back(given_card),
        "disaster": await disaster_mode_refused(),
    }
    with open(os.environ["MYNA_RESULTS"], "w", encoding="utf-8") as f:
        json.dump(results, f)
    print("python scenario: 6 workflows passed")


if __name__ == "__main__":
    asyncio.run(main())
