//! Disputes (C5): an enterprise complains about a claim decision; a mediator (of the zone's
//! mediation centre) takes it, holds sessions and records the outcome — settled, or
//! escalated to arbitration or a court — within deadlines that are configuration.

use crate::org::string_enum;

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
