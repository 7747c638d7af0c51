//! The portal's language (`?lang=ja|en`, else `Accept-Language`, else Japanese) and its
//! string table. Domain terms come from [`myna_domain::labels`]; the portal's own
//! sentences are here, each in both languages.

use myna_domain::labels::Label;

/// A language the portal is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 日本語 (the default).
    Ja,
    /// English.
    En,
}

impl Lang {
    /// `?lang=` when it names a language we have, else the preferred one of ours in
    /// `Accept-Language`, else Japanese. An unknown `lang` falls back rather than failing:
    /// a patient following an old link still gets a page.
    pub fn choose(query: Option<&str>, accept_language: Option<&str>) -> Lang {
        query
            .and_then(Lang::parse)
            .or_else(|| accept_language.and_then(preferred))
            .unwrap_or(Lang::Ja)
    }

    fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The `lang` query value and HTML `lang` attribute.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// The other language (for the switch link).
    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }

    /// This language's half of a domain label.
    pub fn pick(self, (ja, en): Label) -> &'static str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    /// A portal string.
    pub fn t(self, text: Text) -> &'static str {
        self.pick(text.label())
    }
}

/// The highest-weighted of our languages in an `Accept-Language` value (first wins ties).
fn preferred(header: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let Some(lang) = parts.next().and_then(Lang::parse) else {
            continue;
        };
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
            .unwrap_or(0.0);
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

/// Every sentence and heading of the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Text {
    Title,
    Heading,
    Intro,
    PatientId,
    SwitchLanguage,
    Filter,
    From,
    To,
    Institution,
    AllInstitutions,
    Apply,
    ClearFilters,
    NoEntries,
    NoMatches,
    JapanTime,
    Role,
    Consent,
    ConsentNotAsked,
    WithoutConsent,
    RecordsShown,
    TabletTime,
    Outcome,
    Shown,
    NotShared,
    RefusedNothingShown,
    DeniedNothingShown,
    ReviewedNothingShown,
    LogCheck,
    Verified,
    Pending,
    Failed,
    Technical,
    ProofLink,
    AuditEventLink,
    Flag,
    FlagNote,
    Reported,
    ReportReceived,
    Older,
    Newest,
    EntryNumber,
    InvalidRequest,
    InvalidDate,
    InvalidDateRange,
    EntryNotFound,
    BackToHistory,
    SignInTitle,
    SignInHeading,
    SignInProduction,
    SignInWithCard,
    SignInCardHow,
    SignInPinGuard,
    SignInShow,
    NoSuchPatient,
}

impl Text {
    fn label(self) -> Label {
        use Text::*;
        match self {
            Title => ("閲覧履歴", "Viewing history"),
            Heading => (
                "あなたの医療情報の閲覧履歴",
                "Who viewed your medical records",
            ),
            Intro => (
                "救急のときに、あなたの医療情報を見た機関の記録です。新しい順に表示しています。",
                "Each time an emergency service looked at your medical records, newest first.",
            ),
            PatientId => ("患者ID", "Patient ID"),
            SwitchLanguage => ("English", "日本語"),
            Filter => ("絞り込み", "Filter"),
            From => ("開始日", "From"),
            To => ("終了日", "To"),
            Institution => ("機関", "Institution"),
            AllInstitutions => ("すべての機関", "All institutions"),
            Apply => ("表示する", "Show"),
            ClearFilters => ("条件を解除", "Clear filters"),
            NoEntries => (
                "閲覧の記録はありません。",
                "No one has accessed your records.",
            ),
            NoMatches => (
                "この条件に合う記録はありません。",
                "No entries match these filters.",
            ),
            JapanTime => ("日本時間", "Japan time"),
            Role => ("役割", "Role"),
            Consent => ("同意", "Consent"),
            ConsentNotAsked => ("同意の確認前", "Consent not yet asked"),
            WithoutConsent => (
                "⚠ 同意なしで閲覧されました（同意取得困難）",
                "⚠ Viewed without your consent (consent was difficult to obtain)",
            ),
            RecordsShown => ("表示された情報", "Records shown"),
            TabletTime => ("端末の時刻", "Time on the tablet"),
            Outcome => ("結果", "Result"),
            Shown => ("✓ 表示された", "✓ Shown"),
            NotShared => (
                "医療情報は共有せず（救急隊の所見のみ）",
                "Medical records not shared (crew observations only)",
            ),
            RefusedNothingShown => ("✗ 同意拒否のため表示なし", "✗ Nothing shown: you refused"),
            DeniedNothingShown => ("✗ 拒否され表示なし", "✗ Refused, nothing shown"),
            ReviewedNothingShown => (
                "確認のみ（診療情報の表示なし）。結果",
                "Review only (no records shown). Finding",
            ),
            LogCheck => ("改ざん確認", "Tamper check"),
            Verified => (
                "✓ 確認済み：署名された記録に含まれています",
                "✓ Verified: this entry is in the signed log",
            ),
            Pending => (
                "… 確認待ち：記録は数秒ごとに署名されます。しばらくしてから再読み込みしてください",
                "… Pending: the log is signed every few seconds; reload in a moment",
            ),
            Failed => (
                "✗ 確認できません：この記録は署名された記録と一致しません。窓口にご連絡ください",
                "✗ Check FAILED: this entry does not match the signed log. Please contact us",
            ),
            Technical => ("技術的な詳細", "Technical details"),
            ProofLink => ("包含証明（JSON）", "Inclusion proof (JSON)"),
            AuditEventLink => ("FHIR AuditEvent（JSON）", "FHIR AuditEvent (JSON)"),
            Flag => ("心当たりがない", "I don't recognise this"),
            FlagNote => ("ひとこと（任意）", "Note (optional)"),
            Reported => ("⚑ 報告済み", "⚑ Reported"),
            ReportReceived => (
                "報告を受け付けました。担当者が確認します。",
                "Thank you. We received your report; a privacy officer will review it.",
            ),
            Older => ("古い記録へ →", "Older entries →"),
            Newest => ("← 最新の記録へ", "← Newest entries"),
            EntryNumber => ("記録番号", "Entry no."),
            InvalidRequest => (
                "表示条件を読み取れませんでした。",
                "We could not read these settings.",
            ),
            InvalidDate => (
                "日付は「2026-11-25」の形で入力してください。",
                "Enter dates like 2026-11-25 (year-month-day).",
            ),
            InvalidDateRange => (
                "開始日が終了日より後になっています。",
                "The start date is after the end date.",
            ),
            EntryNotFound => ("その記録は見つかりません。", "That entry was not found."),
            BackToHistory => ("閲覧履歴に戻る", "Back to your viewing history"),
            SignInTitle => ("サインイン", "Sign in"),
            SignInHeading => ("開発用サインイン", "Development sign-in"),
            SignInProduction => (
                "開発環境のみ：患者IDでサインインします。",
                "Development only: sign in with a patient id.",
            ),
            SignInWithCard => (
                "閲覧履歴：マイナンバーカードでサインイン",
                "Viewing history: sign in with your My Number card",
            ),
            SignInCardHow => (
                "スマートフォンのアプリでマイナンバーカードを読み取り、利用者証明用の暗証番号（数字4桁）を入力してサインインしてください。ブラウザではカードを読み取れないため、このページからはサインインできません。",
                "Sign in with the app on your phone: it reads your My Number card and asks for the card's 4-digit user-authentication PIN. A web browser cannot read the card, so you cannot sign in from this page.",
            ),
            SignInPinGuard => (
                "暗証番号を3回続けて間違えるとカードがロックされます。残り1回になると、アプリは暗証番号を送りません（市区町村の窓口で再設定してください）。",
                "Three wrong PINs in a row lock the card. When only one try is left, the app does not send your PIN (your municipal office can reset it).",
            ),
            SignInShow => ("表示", "Show"),
            NoSuchPatient => ("該当する患者がいません", "No such patient"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_comes_from_the_query_then_the_header_then_japanese() {
        let check = |query: Option<&str>, header: Option<&str>, expected: Lang| {
            assert_eq!(
                Lang::choose(query, header),
                expected,
                "{query:?} {header:?}"
            );
        };
        check(Some("en"), Some("ja"), Lang::En);
        check(Some("ja"), Some("en-US"), Lang::Ja);
        check(Some("fr"), Some("en-GB,en;q=0.8"), Lang::En);
        check(None, Some("fr-FR, ja;q=0.5, en;q=0.9"), Lang::En);
        check(None, Some("en;q=0, ja"), Lang::Ja);
        check(None, Some("de"), Lang::Ja);
        check(None, None, Lang::Ja);
    }

    #[test]
    fn every_text_has_both_languages() {
        use Text::*;
        for text in [
            Title,
            Intro,
            WithoutConsent,
            Verified,
            Pending,
            Failed,
            Flag,
            Reported,
            TabletTime,
        ] {
            let (ja, en) = text.label();
            assert!(!ja.is_empty() && !en.is_empty() && ja != en, "{text:?}");
        }
    }
}
