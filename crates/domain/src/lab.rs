//! The risk lab's words (C9): what a model is and where it stands.

use crate::org::string_enum;

string_enum! {
    /// What a model is.
    ModelKind {
        Glm = "glm", "广义线性模型（费率）", "GLM (rating)";
        Scorecard = "scorecard", "评分卡", "Scorecard";
    }
}

string_enum! {
    /// Where a model stands: uploaded and awaiting a second person's approval, approved for
    /// use, or retired (kept, never used again).
    ModelStatus {
        Submitted = "submitted", "待审批", "Awaiting approval";
        Approved = "approved", "已批准使用", "Approved for use";
        Retired = "retired", "已停用", "Retired";
    }
}
