//! Disputes (C5): an enterprise complains about a claim decision; a mediator (of the zone's
//! mediation centre) takes it, holds sessions and records the outcome — settled, or
//! escalated to arbitration or a court — within deadlines that are configuration.

use crate::error::{Collector, FieldError, Invalid};
use crate::org::{parse_date, string_enum};
use time::Date;

string_enum! {
    /// Where a dispute stands.
    DisputeStatus {
        Complained = "complained", "已投诉", "Complained";
        Mediating = "mediating", "调解中", "In mediation";
        Settled = "settled", "调解成功", "Settled";
        Escalated = "escalated", "已转仲裁或诉讼", "Escalated";
    }
}

string_enum! {
    /// A mediator's step (the codes are what the API and the forms send).
    DisputeStep {
        Take = "take", "受理", "Take the case";
        Session = "session", "记录调解", "Record a session";
        Settle = "settle", "调解成功", "Settle";
        Escalate = "escalate", "转仲裁或诉讼", "Escalate";
    }
}

impl DisputeStatus {
    /// The status after `step`, or why `step` is not possible from here.
    pub fn apply(self, step: DisputeStep) -> Result<DisputeStatus, FieldError> {
        use DisputeStatus as S;
        use DisputeStep as T;
        let next = match (self, step) {
            (S::Complained, T::Take) => S::Mediating,
            (S::Mediating, T::Session) => S::Mediating,
            (S::Mediating, T::Settle) => S::Settled,
            (S::Mediating, T::Escalate) => S::Escalated,
            (from, t) => {
                let (zh, en) = match (from, t) {
                    (_, T::Take) => (
                        "该纠纷已被受理或已结束".to_owned(),
                        format!(
                            "the dispute was already taken or concluded (it is `{}`): it cannot be taken",
                            from.code()
                        ),
                    ),
                    _ => (
                        format!("该纠纷状态为「{}」，不能执行「{}」", from.label_zh(), t.label_zh()),
                        format!("a dispute that is `{}` cannot take the step `{}`", from.code(), t.code()),
                    ),
                };
                return Err(FieldError::new("status", "bad_transition", zh, en));
            }
        };
        Ok(next)
    }

    /// The steps possible from this status.
    pub fn steps(self) -> Vec<DisputeStep> {
        DisputeStep::ALL.iter().copied().filter(|s| self.apply(*s).is_ok()).collect()
    }

    /// Whether the dispute is still open (complained or in mediation).
    pub fn is_open(self) -> bool {
        matches!(self, DisputeStatus::Complained | DisputeStatus::Mediating)
    }
}

/// A mediation session: when, and what was said or agreed (stored as JSON, the date as
/// `YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Session {
    pub on: Date,
    pub notes: String,
}

impl Session {
    /// A session as received: its date (`YYYY-MM-DD`) and notes (2–4000 characters).
    pub fn parse(on: &str, notes: &str) -> Result<Session, Invalid> {
        let mut c = Collector::default();
        let notes = c.take(text("notes", notes, 2));
        let on = c.take(parse_date("on", on));
        c.finish()?;
        match (on, notes) {
            (Some(on), Some(notes)) => Ok(Session { on, notes }),
            _ => Err(Invalid(vec![FieldError::required("on")])),
        }
    }
}

/// A dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispute {
    pub id: String,
    pub claim_id: String,
    pub enterprise_id: String,
    pub insurer_id: String,
    pub complaint: String,
    pub status: DisputeStatus,
    /// The mediator who took it (`user:…`) and their centre.
    pub mediator: Option<String>,
    pub mediator_org: Option<String>,
    pub sessions: Vec<Session>,
    pub outcome: Option<String>,
    pub forum: Option<Forum>,
    pub complained_on: Date,
    pub accepted_on: Option<Date>,
    pub concluded_on: Option<Date>,
    pub created_at_us: i64,
}

/// A complaint as received.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct ComplaintInput {
    pub complaint: String,
}

/// A checked complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComplaint {
    pub complaint: String,
}

impl NewComplaint {
    /// The complaint: 5–4000 characters.
    pub fn parse(input: &ComplaintInput) -> Result<NewComplaint, Invalid> {
        Ok(NewComplaint { complaint: text("complaint", &input.complaint, 5)? })
    }
}

/// A text of `min` to 4000 characters, trimmed (complaints, session notes, outcomes).
pub fn text(field: &str, s: &str, min: usize) -> Result<String, FieldError> {
    let t = s.trim();
    let n = t.chars().count();
    if n < min || n > 4000 {
        return Err(FieldError::new(
            field,
            "length",
            format!("请填写 {min}–4000 个字符"),
            format!("write {min} to 4,000 characters"),
        ));
    }
    Ok(t.to_owned())
}

string_enum! {
    /// Where an escalated dispute goes.
    Forum {
        Arbitration = "arbitration", "仲裁", "Arbitration";
        Court = "court", "诉讼", "Court";
    }
}

/// Deadline lengths in days: to take a complaint into mediation, and to conclude it.
/// Configuration: no Donghu rule has been confirmed (`U`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DisputeDeadlines {
    pub accept_days: i64,
    pub mediate_days: i64,
}

impl Default for DisputeDeadlines {
    fn default() -> Self {
        DisputeDeadlines { accept_days: 5, mediate_days: 30 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_and_step_against_the_table() {
        use DisputeStatus as S;
        use DisputeStep as T;
        let expected = |s: S, t: T| -> Option<S> {
            match (s, t) {
                (S::Complained, T::Take) => Some(S::Mediating),
                (S::Mediating, T::Session) => Some(S::Mediating),
                (S::Mediating, T::Settle) => Some(S::Settled),
                (S::Mediating, T::Escalate) => Some(S::Escalated),
                _ => None,
            }
        };
        for &s in S::ALL {
            for &t in T::ALL {
                let got = s.apply(t);
                assert_eq!(got.as_ref().ok().copied(), expected(s, t), "{s} × {t}");
                if let Err(e) = got {
                    assert_eq!((e.field.as_str(), e.code), ("status", "bad_transition"));
                    assert!(e.message_en.contains(s.code()), "{e:?}");
                    if t != T::Take {
                        assert!(e.message_zh.contains(s.label_zh()) && e.message_zh.contains(t.label_zh()));
                        assert!(e.message_en.contains(t.code()), "{e:?}");
                    }
                }
            }
            let steps: Vec<T> = T::ALL.iter().copied().filter(|t| expected(s, *t).is_some()).collect();
            assert_eq!(s.steps(), steps, "{s}");
            assert_eq!(s.is_open(), matches!(s, S::Complained | S::Mediating));
        }
    }

    #[test]
    fn sessions_and_complaints_are_parsed_at_the_edge() {
        let s = Session::parse("2026-11-28", "双方陈述").unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#"{"on":"2026-11-28","notes":"双方陈述"}"#);
        assert_eq!(serde_json::from_str::<Session>(&json).unwrap(), s);
        let e = Session::parse("28.11.2026", "x").unwrap_err();
        let fields: Vec<(&str, &str)> = e.0.iter().map(|f| (f.field.as_str(), f.code)).collect();
        assert_eq!(fields, vec![("notes", "length"), ("on", "date_format")]);
        assert!(NewComplaint::parse(&ComplaintInput { complaint: " 不同意 ".into() }).is_err());
        let ok = NewComplaint::parse(&ComplaintInput { complaint: " 拒赔理由不成立 ".into() }).unwrap();
        assert_eq!(ok.complaint, "拒赔理由不成立");
    }
}
