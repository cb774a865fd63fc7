//! The product catalogue API: product types, insurers' filings, the zone's review, the
//! public portal, the registered roster and the publicity section.

use super::rfc3339;
use super::{ApiJson, ApiMultipart, ApiPath, ApiQuery, SignedIn};
use crate::error::{ApiError, ErrorBody};
use crate::session::ApiActor;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use kebao_domain::attachment::Attachment;
use kebao_domain::catalogue::{Confidence, ProductType};
use kebao_domain::product::{CoverageInput, ProductInput, CHECKLIST};
use kebao_domain::product::{ProductVersion, ReviewComment};
use kebao_domain::publicity::Article;
use kebao_domain::publicity::{render_markdown, ArticleKind};
use kebao_service::products::{ProductListItem, ProductView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

type ApiResult<T> = Result<Json<T>, ApiError>;

pub(crate) use crate::forms::attachments::{attachment_response, read_upload, too_large_is_413};
pub(crate) use crate::forms::products::{parse_review, quote_input};
pub use crate::forms::products::{PortalParams, QuoteRequestDto};

/// A number the catalogue states, with how far it is confirmed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FigureDto {
    pub label: String,
    pub value: String,
    /// C | C-local | D | R | U
    pub confidence: String,
    /// False for `U`: indicative, unconfirmed, never to be presented as a fact.
    pub is_fact: bool,
    pub confidence_label_zh: String,
    pub confidence_label_en: String,
}

/// A source cited by the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceDto {
    pub title: String,
    pub url: String,
    pub confidence: String,
}

/// A subsidy rule a type may draw on.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubsidyRefDto {
    pub id: String,
    pub name_zh: String,
    pub jurisdiction: String,
    pub confidence: String,
    pub is_fact: bool,
}

/// A product type of the catalogue (reference data).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductTypeDto {
    pub id: String,
    pub name_zh: String,
    pub aliases: Vec<String>,
    /// Named in the zone's plan.
    pub plan_named: bool,
    /// NFRA reporting class code.
    pub nfra_class: String,
    pub nfra_class_zh: String,
    /// 1: product classes; 2: counted by insured entity.
    pub nfra_part: u8,
    pub line: String,
    pub stages: Vec<String>,
    pub policyholder: String,
    pub insured: String,
    pub beneficiary: String,
    pub risks: Vec<String>,
    /// Trigger basis (occurrence, claims_made, …).
    pub trigger_basis: String,
    pub term_months: Option<i64>,
    pub rate_basis: String,
    pub rate_note: String,
    pub figures: Vec<FigureDto>,
    pub subsidy_rules: Vec<SubsidyRefDto>,
    pub sources: Vec<SourceDto>,
    pub data_sensitivity: Option<String>,
}

fn figure(label: String, value: String, c: Confidence) -> FigureDto {
    FigureDto {
        label,
        value,
        confidence: c.code().to_owned(),
        is_fact: c.is_fact(),
        confidence_label_zh: c.label_zh().to_owned(),
        confidence_label_en: c.label_en().to_owned(),
    }
}

pub(crate) fn type_dto(s: &AppState, t: &ProductType) -> ProductTypeDto {
    let cat = s.svc.catalogue();
    ProductTypeDto {
        id: t.id.clone(),
        name_zh: t.name_zh.clone(),
        aliases: t.aliases.clone(),
        plan_named: t.plan_named,
        nfra_class: t.nfra().code().to_owned(),
        nfra_class_zh: t.nfra().label_zh().to_owned(),
        nfra_part: t.nfra().part(),
        line: t.line.clone(),
        stages: t.stages().iter().map(|s| s.code().to_owned()).collect(),
        policyholder: t.policyholder.clone(),
        insured: t.insured.clone(),
        beneficiary: t.beneficiary.clone(),
        risks: t.risks.clone(),
        trigger_basis: t.basis.clone(),
        term_months: t.term_months,
        rate_basis: t.rate.basis.clone(),
        rate_note: t.rate.note.clone(),
        figures: t.figures().into_iter().map(|f| figure(f.label, f.value, f.confidence)).collect(),
        subsidy_rules: t
            .subsidy_rules
            .iter()
            .filter_map(|r| cat.subsidy_rule(r))
            .map(|r| SubsidyRefDto {
                id: r.id.clone(),
                name_zh: r.name_zh.clone(),
                jurisdiction: r.jurisdiction.clone(),
                confidence: r.confidence.clone(),
                is_fact: r.confidence().is_fact(),
            })
            .collect(),
        sources: t
            .sources
            .iter()
            .map(|s| SourceDto {
                title: s.title.clone(),
                url: s.url.clone(),
                confidence: s.confidence.clone(),
            })
            .collect(),
        data_sensitivity: t.data_sensitivity.clone(),
    }
}

/// The catalogue's product types.
#[utoipa::path(get, path = "/api/v1/product-types", security((), ("bearer" = [])), responses((status = 200, body = Vec<ProductTypeDto>)), tag = "catalogue")]
pub async fn list_types(State(s): State<AppState>) -> Json<Vec<ProductTypeDto>> {
    let cat = s.svc.catalogue();
    Json(cat.types().iter().map(|t| type_dto(&s, t)).collect())
}

/// One product type.
#[utoipa::path(get, path = "/api/v1/product-types/{id}", security((), ("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ProductTypeDto), (status = 404, body = ErrorBody)), tag = "catalogue")]
pub async fn get_type(State(s): State<AppState>, ApiPath(id): ApiPath<String>) -> ApiResult<ProductTypeDto> {
    let cat = s.svc.catalogue();
    let t = cat.get(&id).ok_or_else(|| ApiError::from(kebao_service::ServiceError::NotFound))?;
    Ok(Json(type_dto(&s, t)))
}

/// A catalogue file to load.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogueLoadDto {
    /// The TOML text (the shape of `data/catalogue.toml`).
    pub toml: String,
    /// Where it came from, for the record.
    #[serde(default)]
    pub source: String,
}

/// What was loaded.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueDto {
    pub hash: String,
    pub types: usize,
}

/// Load a new catalogue (platform admins). Refused if it drops a type that filings use.
#[utoipa::path(post, path = "/api/v1/catalogue", request_body = CatalogueLoadDto,
    responses((status = 200, body = CatalogueDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "catalogue")]
pub async fn load_catalogue(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(body): ApiJson<CatalogueLoadDto>,
) -> ApiResult<CatalogueDto> {
    let source = if body.source.trim().is_empty() { "api".to_owned() } else { body.source };
    let c = s.svc.load_catalogue(&actor, &body.toml, &source).await?;
    Ok(Json(CatalogueDto { hash: c.hash().to_owned(), types: c.types().len() }))
}

/// A coverage.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CoverageDto {
    pub name: String,
    /// Yuan, as a decimal string (`500000.00`).
    pub limit_yuan: String,
    pub deductible_yuan: String,
    #[serde(default)]
    pub note: String,
}

/// A filing as submitted. Codes are accepted for every enumerated field.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FilingInputDto {
    /// The filing insurer; the caller's organisation when left out.
    pub insurer_id: Option<String>,
    pub type_id: String,
    pub name: String,
    pub summary: String,
    pub coverages: Vec<CoverageDto>,
    /// Zone industry tags; empty: any.
    pub industries: Vec<String>,
    /// Life-cycle stages; empty: the type's.
    pub stages: Vec<String>,
    /// The enterprise must hold one of these; empty: none required.
    pub qualifications: Vec<String>,
    pub term_months: Option<u16>,
    /// sum_insured | limit | revenue | per_head | per_unit | loan_principal | fixed
    pub premium_basis: String,
    /// The insurer's filed rate in its own words; shown, never computed with.
    pub rate_text: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    /// `pro_rata` (default) or `short_rate`.
    #[serde(default)]
    pub refund_method: String,
    /// `months:percent` pairs, e.g. `1:10 2:20 … 12:100`, when the method is `short_rate`.
    #[serde(default)]
    pub short_rate_table: String,
}

impl From<FilingInputDto> for ProductInput {
    fn from(d: FilingInputDto) -> ProductInput {
        ProductInput {
            type_id: d.type_id,
            name: d.name,
            summary: d.summary,
            coverages: d
                .coverages
                .into_iter()
                .map(|c| CoverageInput {
                    name: c.name,
                    limit_yuan: c.limit_yuan,
                    deductible_yuan: c.deductible_yuan,
                    note: c.note,
                })
                .collect(),
            industries: d.industries,
            stages: d.stages,
            qualifications: d.qualifications,
            term_months: d.term_months.map(|m| m.to_string()).unwrap_or_default(),
            premium_basis: d.premium_basis,
            rate_text: d.rate_text,
            contact_name: d.contact_name,
            contact_phone: d.contact_phone,
            contact_email: d.contact_email,
            refund_method: d.refund_method,
            short_rate_table: d.short_rate_table,
        }
    }
}

/// One version of a product.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionDto {
    pub version: i64,
    /// draft | in_review | changes_requested | approved | rejected | published | withdrawn | superseded
    pub status: String,
    pub registration_no: Option<String>,
    pub name: String,
    pub summary: String,
    pub coverages: Vec<CoverageDto>,
    pub industries: Vec<String>,
    pub stages: Vec<String>,
    pub qualifications: Vec<String>,
    pub term_months: u16,
    pub premium_basis: String,
    pub rate_text: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    /// `pro_rata` or `short_rate`, with the table.
    pub refund_method: String,
    pub short_rate_table: String,
    /// Ticked checklist items (zone review).
    pub checklist: Vec<String>,
    pub decision_reason: Option<String>,
    pub submitted_at: Option<String>,
    pub decided_at: Option<String>,
    pub published_at: Option<String>,
}

impl From<&ProductVersion> for VersionDto {
    fn from(v: &ProductVersion) -> VersionDto {
        let c = &v.content;
        VersionDto {
            version: v.version,
            status: v.status.code().to_owned(),
            registration_no: v.registration_no.clone(),
            name: c.name.clone(),
            summary: c.summary.clone(),
            coverages: c
                .coverages
                .iter()
                .map(|x| CoverageDto {
                    name: x.name.clone(),
                    limit_yuan: x.limit.to_yuan_string(),
                    deductible_yuan: x.deductible.to_yuan_string(),
                    note: x.note.clone(),
                })
                .collect(),
            industries: c.eligibility.industries.clone(),
            stages: c.eligibility.stages.iter().map(|s| s.code().to_owned()).collect(),
            qualifications: c.eligibility.qualifications.iter().map(|q| q.code().to_owned()).collect(),
            term_months: c.term_months,
            premium_basis: c.premium_basis.code().to_owned(),
            rate_text: c.rate_text.clone(),
            contact_name: c.contact.name.clone(),
            contact_phone: c.contact.phone.clone(),
            contact_email: c.contact.email.clone(),
            refund_method: c.refund.code().to_owned(),
            short_rate_table: c.refund.table_text(),
            checklist: v.checklist.clone(),
            decision_reason: v.decision_reason.clone(),
            submitted_at: v.submitted_at_us.map(rfc3339),
            decided_at: v.decided_at_us.map(rfc3339),
            published_at: v.published_at_us.map(rfc3339),
        }
    }
}

/// A filed document.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentDto {
    pub id: String,
    pub file_name: String,
    pub media_type: String,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    pub size: i64,
    pub url: String,
}

impl From<&Attachment> for DocumentDto {
    fn from(d: &Attachment) -> DocumentDto {
        DocumentDto {
            id: d.id.clone(),
            file_name: d.file_name.clone(),
            media_type: d.media_type.clone(),
            sha256: d.sha256.clone(),
            size: d.size,
            url: format!("/api/v1/documents/{}", d.id),
        }
    }
}

/// A review comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentDto {
    pub version: i64,
    pub author_name: String,
    /// comment | reply | request_changes | approve | reject
    pub kind: String,
    pub body: String,
    pub at: String,
}

impl From<&ReviewComment> for CommentDto {
    fn from(c: &ReviewComment) -> CommentDto {
        CommentDto {
            version: c.version,
            author_name: c.author_name.clone(),
            kind: c.kind.clone(),
            body: c.body.clone(),
            at: rfc3339(c.created_at_us),
        }
    }
}

/// What the caller may do with a product.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductPermissionsDto {
    pub edit: bool,
    pub review: bool,
    pub publish: bool,
    pub withdraw: bool,
    pub new_version: bool,
}

/// A product as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductDto {
    pub id: String,
    pub insurer_id: String,
    pub insurer_name: String,
    pub type_id: String,
    /// The version shown: the public one, or the newest for its insurer and the zone.
    pub shown: VersionDto,
    pub public_version: Option<i64>,
    /// Every version the caller may see, newest first.
    pub versions: Vec<VersionDto>,
    pub documents: Vec<DocumentDto>,
    pub comments: Vec<CommentDto>,
    pub permissions: ProductPermissionsDto,
}

pub(crate) fn product_dto(v: &ProductView) -> ProductDto {
    ProductDto {
        id: v.product.id.clone(),
        insurer_id: v.product.insurer_id.clone(),
        insurer_name: v.product.insurer_name.clone(),
        type_id: v.product.type_id.clone(),
        shown: VersionDto::from(&v.shown),
        public_version: v.product.public_version,
        versions: v.versions.iter().map(VersionDto::from).collect(),
        documents: v.documents.iter().map(DocumentDto::from).collect(),
        comments: v.comments.iter().map(CommentDto::from).collect(),
        permissions: ProductPermissionsDto {
            edit: v.can_edit,
            review: v.can_review,
            publish: v.can_publish,
            withdraw: v.can_withdraw,
            new_version: v.can_new_version,
        },
    }
}

/// A row of a product list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductSummaryDto {
    pub id: String,
    pub name: String,
    pub insurer_id: String,
    pub insurer_name: String,
    pub type_id: String,
    pub type_name: String,
    pub line: String,
    pub version: i64,
    pub status: String,
    pub registration_no: Option<String>,
    pub stages: Vec<String>,
    pub industries: Vec<String>,
}

impl From<&ProductListItem> for ProductSummaryDto {
    fn from(i: &ProductListItem) -> ProductSummaryDto {
        ProductSummaryDto {
            id: i.product.id.clone(),
            name: i.version.content.name.clone(),
            insurer_id: i.product.insurer_id.clone(),
            insurer_name: i.product.insurer_name.clone(),
            type_id: i.product.type_id.clone(),
            type_name: i.type_name.clone(),
            line: i.line.code().to_owned(),
            version: i.version.version,
            status: i.version.status.code().to_owned(),
            registration_no: i.version.registration_no.clone(),
            stages: i.version.content.eligibility.stages.iter().map(|s| s.code().to_owned()).collect(),
            industries: i.version.content.eligibility.industries.clone(),
        }
    }
}

/// A page of the portal.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalPageDto {
    pub items: Vec<ProductSummaryDto>,
    pub total: usize,
    pub page: u32,
    pub pages: u32,
}

/// Published products: filtered by 5+2 industry, stage, line and insurer, searched in
/// Chinese or English, paged. Ordered by relevance or name, never by price.
#[utoipa::path(get, path = "/api/v1/products", security((), ("bearer" = [])), params(PortalParams),
    responses((status = 200, body = PortalPageDto), (status = 422, body = ErrorBody),
        (status = 429, description = "anonymous searches from one address over their rate", body = ErrorBody)), tag = "portal")]
pub async fn portal(
    State(s): State<AppState>,
    // The portal is public: a stale cookie or token makes the caller anonymous, not refused.
    actor: Result<ApiActor, ApiError>,
    addr: crate::session::ClientAddr,
    ApiQuery(p): ApiQuery<PortalParams>,
) -> ApiResult<PortalPageDto> {
    let anonymous = !matches!(actor, Ok(ApiActor(a)) if !matches!(a, kebao_service::authz::Actor::Anonymous));
    let searching = p.q.as_deref().is_some_and(|q| !q.trim().is_empty());
    if searching && anonymous && !crate::session::anonymous_search_allowed(&s, addr) {
        return Err(crate::session::search_rate_error());
    }
    let q = p.to_query().map_err(|e| ApiError::invalid(crate::error::details_of(&e)))?;
    let page = s.svc.portal(&q).await?;
    Ok(Json(PortalPageDto {
        items: page.items.iter().map(ProductSummaryDto::from).collect(),
        total: page.total,
        page: page.page,
        pages: page.pages,
    }))
}

/// The life-cycle × industry matrix.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatrixDto {
    pub industries: Vec<String>,
    pub stages: Vec<String>,
    /// `counts[stage][industry]`: published products open to the cell; 0 is a gap.
    pub counts: Vec<Vec<usize>>,
}

/// Where registered products exist, by life-cycle stage × industry.
#[utoipa::path(get, path = "/api/v1/products/matrix", security((), ("bearer" = [])), responses((status = 200, body = MatrixDto)), tag = "portal")]
pub async fn matrix(State(s): State<AppState>) -> ApiResult<MatrixDto> {
    let m = s.svc.product_matrix().await?;
    Ok(Json(MatrixDto {
        industries: m.industries.into_iter().map(|(i, _)| i).collect(),
        stages: m.stages.iter().map(|s| s.code().to_owned()).collect(),
        counts: m.counts,
    }))
}

/// A registered version on the roster.
#[derive(Debug, Serialize, ToSchema)]
pub struct RosterDto {
    pub registration_no: String,
    pub product_name: String,
    pub insurer: String,
    pub type_name: String,
    pub nfra_class: String,
    pub version: i64,
    pub status: String,
    pub approved_on: String,
}

/// The registered-product roster (Excel: `/products/roster.xlsx`).
#[utoipa::path(get, path = "/api/v1/products/roster", security((), ("bearer" = [])), responses((status = 200, body = Vec<RosterDto>)), tag = "portal")]
pub async fn roster(State(s): State<AppState>) -> ApiResult<Vec<RosterDto>> {
    Ok(Json(
        s.svc
            .registered_roster()
            .await?
            .into_iter()
            .map(|r| RosterDto {
                registration_no: r.registration_no,
                product_name: r.product_name,
                insurer: r.insurer,
                type_name: r.type_name,
                nfra_class: r.nfra_class,
                version: r.version,
                status: r.status.code().to_owned(),
                approved_on: r.approved_on,
            })
            .collect(),
    ))
}

/// One product: the public version for everyone; every version, documents and review
/// comments for its insurer and the zone. Others' drafts are not found.
#[utoipa::path(get, path = "/api/v1/products/{id}", security((), ("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ProductDto), (status = 404, body = ErrorBody)), tag = "portal")]
pub async fn get_product(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ProductDto> {
    Ok(Json(product_dto(&s.svc.product(&actor, &id).await?)))
}

/// File a new product (an insurer's product filers and admins). It starts as a draft.
#[utoipa::path(post, path = "/api/v1/filings", request_body = FilingInputDto,
    responses((status = 201, body = ProductDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "filings")]
pub async fn file_product(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(mut body): ApiJson<FilingInputDto>,
) -> Result<(StatusCode, Json<ProductDto>), ApiError> {
    let insurer = body.insurer_id.take().or_else(|| actor.org_id().map(str::to_owned)).unwrap_or_default();
    let id = s.svc.file_product(&actor, &insurer, &body.into()).await?;
    Ok((StatusCode::CREATED, Json(product_dto(&s.svc.product(&actor, &id).await?))))
}

/// The caller's insurer's products (drafts included).
#[utoipa::path(get, path = "/api/v1/filings", responses((status = 200, body = Vec<ProductSummaryDto>), (status = 401, body = ErrorBody)), tag = "filings")]
pub async fn my_filings(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
) -> ApiResult<Vec<ProductSummaryDto>> {
    Ok(Json(s.svc.my_products(&actor).await?.iter().map(ProductSummaryDto::from).collect()))
}

/// Filings waiting for the zone (zone reviewers and approvers).
#[utoipa::path(get, path = "/api/v1/filings/review-queue", responses((status = 200, body = Vec<ProductSummaryDto>), (status = 403, body = ErrorBody)), tag = "filings")]
pub async fn review_queue(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
) -> ApiResult<Vec<ProductSummaryDto>> {
    Ok(Json(s.svc.review_queue(&actor).await?.iter().map(ProductSummaryDto::from).collect()))
}

/// Change the open version (draft or changes requested).
#[utoipa::path(put, path = "/api/v1/filings/{id}", params(("id" = String, Path)), request_body = FilingInputDto,
    responses((status = 200, body = ProductDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "filings")]
pub async fn update_filing(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<FilingInputDto>,
) -> ApiResult<ProductDto> {
    s.svc.update_product(&actor, &id, &body.into()).await?;
    Ok(Json(product_dto(&s.svc.product(&actor, &id).await?)))
}

/// Attach a document (multipart field `file`; at most 10 MiB; PDF, Word, Excel, PNG, JPG, TXT).
#[utoipa::path(post, path = "/api/v1/filings/{id}/documents", params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201, body = DocumentDto), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "filings")]
pub async fn upload_document(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiMultipart(multipart): ApiMultipart,
) -> Result<(StatusCode, Json<DocumentDto>), ApiError> {
    let (name, bytes, _) = read_upload(multipart).await?;
    let doc = s.svc.add_product_document(&actor, &id, &name, &bytes).await.map_err(too_large_is_413)?;
    Ok((StatusCode::CREATED, Json(DocumentDto::from(&doc))))
}

/// Download a document (if the caller may see its version).
#[utoipa::path(get, path = "/api/v1/documents/{id}", security((), ("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = ErrorBody)), tag = "filings")]
pub async fn download_document(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let (doc, body) = s.svc.product_document(&actor, &id).await?;
    Ok(attachment_response(&doc, body))
}

/// Submit the open version for review.
#[utoipa::path(post, path = "/api/v1/filings/{id}/submit", params(("id" = String, Path)),
    responses((status = 200, body = ProductDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "filings")]
pub async fn submit(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ProductDto> {
    s.svc.submit_product(&actor, &id).await?;
    Ok(Json(product_dto(&s.svc.product(&actor, &id).await?)))
}

/// A comment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentInputDto {
    pub body: String,
}

/// Comment on the newest version (the zone's reviewers, the filing insurer).
#[utoipa::path(post, path = "/api/v1/filings/{id}/comments", params(("id" = String, Path)), request_body = CommentInputDto,
    responses((status = 200, body = ProductDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "filings")]
pub async fn comment(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(c): ApiJson<CommentInputDto>,
) -> ApiResult<ProductDto> {
    s.svc.comment_product(&actor, &id, &c.body).await?;
    Ok(Json(product_dto(&s.svc.product(&actor, &id).await?)))
}

/// The review checklist.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistDto {
    /// Ticked item codes (see `GET /api/v1/filings/checklist`).
    pub items: Vec<String>,
}

/// A checklist item.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistItemDto {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
}

/// The zone's review checklist: every item must be ticked before approval.
#[utoipa::path(get, path = "/api/v1/filings/checklist", security((), ("bearer" = [])), responses((status = 200, body = Vec<ChecklistItemDto>)), tag = "filings")]
pub async fn checklist_items() -> Json<Vec<ChecklistItemDto>> {
    Json(
        CHECKLIST
            .iter()
            .map(|(c, zh, en)| ChecklistItemDto {
                code: (*c).into(),
                label_zh: (*zh).into(),
                label_en: (*en).into(),
            })
            .collect(),
    )
}

/// Tick checklist items on the version in review (zone reviewers).
#[utoipa::path(put, path = "/api/v1/filings/{id}/checklist", params(("id" = String, Path)), request_body = ChecklistDto,
    responses((status = 200, body = ProductDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "filings")]
pub async fn set_checklist(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(c): ApiJson<ChecklistDto>,
) -> ApiResult<ProductDto> {
    s.svc.set_product_checklist(&actor, &id, &c.items).await?;
    Ok(Json(product_dto(&s.svc.product(&actor, &id).await?)))
}

/// A reviewer's decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewDto {
    /// request_changes | approve | reject
    pub decision: String,
    /// Required for request_changes and reject.
    #[serde(default)]
    pub reason: String,
}

/// Decide on the version in review (zone reviewers and approvers): approval gives a
/// registration number; approving twice, or approving a product without a rating plan on
/// file (`no_rating_plan`), is a conflict.
#[utoipa::path(post, path = "/api/v1/filings/{id}/review", params(("id" = String, Path)), request_body = ReviewDto,
    responses((status = 200, body = ProductDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "filings")]
pub async fn review(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<ReviewDto>,
) -> ApiResult<ProductDto> {
    let review = parse_review(&r.decision, &r.reason)?;
    s.svc.review_product(&actor, &id, &review).await?;
    Ok(Json(product_dto(&s.svc.product(&actor, &id).await?)))
}

macro_rules! product_action {
    ($name:ident, $path:literal, $call:ident, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, params(("id" = String, Path)),
            responses((status = 200, body = ProductDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "filings")]
        pub async fn $name(
            State(s): State<AppState>,
            SignedIn(actor): SignedIn,
            ApiPath(id): ApiPath<String>,
        ) -> ApiResult<ProductDto> {
            s.svc.$call(&actor, &id).await?;
            Ok(Json(product_dto(&s.svc.product(&actor, &id).await?)))
        }
    };
}

product_action!(
    publish,
    "/api/v1/filings/{id}/publish",
    publish_product,
    "Publish the registered version (the filing insurer); refused with `no_rating_plan` while no rating plan is on file."
);
product_action!(
    withdraw,
    "/api/v1/filings/{id}/withdraw",
    withdraw_product,
    "Take the published version off the portal."
);
product_action!(
    new_version,
    "/api/v1/filings/{id}/versions",
    new_product_version,
    "Start a new version, copied from the newest."
);

/// A publicity article.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleDto {
    pub id: String,
    /// case | regulation | notice
    pub kind: String,
    pub title: String,
    pub body_md: String,
    /// The body rendered: no author HTML, no unsafe URLs.
    pub body_html: String,
    /// draft | published
    pub status: String,
    pub author_name: String,
    pub published_at: Option<String>,
    pub updated_at: String,
}

impl From<&Article> for ArticleDto {
    fn from(a: &Article) -> ArticleDto {
        ArticleDto {
            id: a.id.clone(),
            kind: a.kind.code().to_owned(),
            title: a.title.clone(),
            body_md: a.body_md.clone(),
            body_html: render_markdown(&a.body_md),
            status: a.status.clone(),
            author_name: a.author_name.clone(),
            published_at: a.published_at_us.map(rfc3339),
            updated_at: rfc3339(a.updated_at_us),
        }
    }
}

/// An article as written.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleInputDto {
    /// case | regulation | notice
    pub kind: String,
    pub title: String,
    /// Markdown; raw HTML is shown as text.
    pub body_md: String,
    #[serde(default)]
    pub publish: bool,
}

/// Articles filter.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ArticleParams {
    /// case | regulation | notice
    pub kind: Option<String>,
}

/// Published articles (drafts too for the zone officers who write them).
#[utoipa::path(get, path = "/api/v1/articles", security((), ("bearer" = [])), params(ArticleParams), responses((status = 200, body = Vec<ArticleDto>)), tag = "publicity")]
pub async fn list_articles(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<ArticleParams>,
) -> ApiResult<Vec<ArticleDto>> {
    let kind = match p.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(ArticleKind::from_code(k).ok_or_else(|| {
            ApiError::invalid(vec![crate::error::ErrorDetail {
                field: "kind".into(),
                code: "unknown_kind".into(),
                message_zh: format!("栏目 `{k}` 不存在"),
                message_en: format!("section `{k}` does not exist"),
            }])
        })?),
    };
    Ok(Json(s.svc.articles(&actor, kind).await?.iter().map(ArticleDto::from).collect()))
}

/// One article.
#[utoipa::path(get, path = "/api/v1/articles/{id}", security((), ("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ArticleDto), (status = 404, body = ErrorBody)), tag = "publicity")]
pub async fn get_article(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ArticleDto> {
    Ok(Json(ArticleDto::from(&s.svc.article(&actor, &id).await?)))
}

/// Write an article (zone officers).
#[utoipa::path(post, path = "/api/v1/articles", request_body = ArticleInputDto,
    responses((status = 201, body = ArticleDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "publicity")]
pub async fn create_article(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(a): ApiJson<ArticleInputDto>,
) -> Result<(StatusCode, Json<ArticleDto>), ApiError> {
    let art = s.svc.create_article(&actor, &a.kind, &a.title, &a.body_md, a.publish).await?;
    Ok((StatusCode::CREATED, Json(ArticleDto::from(&art))))
}

/// Edit an article; `publish: false` takes it down.
#[utoipa::path(put, path = "/api/v1/articles/{id}", params(("id" = String, Path)), request_body = ArticleInputDto,
    responses((status = 200, body = ArticleDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "publicity")]
pub async fn update_article(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(a): ApiJson<ArticleInputDto>,
) -> ApiResult<ArticleDto> {
    Ok(Json(ArticleDto::from(
        &s.svc.update_article(&actor, &id, &a.kind, &a.title, &a.body_md, a.publish).await?,
    )))
}

/// A rating plan to file.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingPlanInputDto {
    /// YYYY-MM-DD.
    pub effective_from: String,
    /// `kebao.rating/1`: basis, base, bands, factor tables, min/max premium, factor floor/cap
    /// (see docs/rating-plan.md).
    #[schema(value_type = Object)]
    pub plan: kebao_domain::rating::PlanDoc,
}

/// A filed rating plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingPlanDto {
    pub id: String,
    pub version: i64,
    pub effective_from: String,
    #[schema(value_type = Object)]
    pub plan: kebao_domain::rating::PlanDoc,
}

fn plan_dto(r: &kebao_domain::rating::FiledPlan) -> RatingPlanDto {
    RatingPlanDto {
        id: r.id.clone(),
        version: r.version,
        effective_from: r.effective_from.to_string(),
        plan: r.doc.clone(),
    }
}

/// File a rating plan for the insurer's product, in force from a date.
#[utoipa::path(post, path = "/api/v1/filings/{id}/rating-plans", params(("id" = String, Path)), request_body = RatingPlanInputDto,
    responses((status = 201, body = RatingPlanDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "rating")]
pub async fn file_rating_plan(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RatingPlanInputDto>,
) -> Result<(StatusCode, Json<RatingPlanDto>), ApiError> {
    let row = s.svc.file_rating_plan(&actor, &id, &body.effective_from, body.plan).await?;
    Ok((StatusCode::CREATED, Json(plan_dto(&row))))
}

/// A product's rating plans (its insurer and the zone).
#[utoipa::path(get, path = "/api/v1/filings/{id}/rating-plans", security((), ("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Vec<RatingPlanDto>), (status = 404, body = ErrorBody)), tag = "rating")]
pub async fn rating_plans(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Vec<RatingPlanDto>> {
    Ok(Json(s.svc.rating_plans(&actor, &id).await?.iter().map(plan_dto).collect()))
}

/// A quote: the insurer's premium by its filed plan, with every step.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteDto {
    pub product_id: String,
    pub product_name: String,
    /// The quote is this insurer's.
    pub insurer_name: String,
    pub plan_version: i64,
    pub effective_from: String,
    pub on: String,
    pub premium_yuan: String,
    #[schema(value_type = Vec<Object>)]
    pub steps: Vec<kebao_domain::rating::Step>,
}

/// Quote a published product by its insurer's filed rating plan. Never compared across insurers.
#[utoipa::path(post, path = "/api/v1/products/{id}/quote", security((), ("bearer" = [])), params(("id" = String, Path)), request_body = QuoteRequestDto,
    responses((status = 200, body = QuoteDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "rating")]
pub async fn quote(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
    ApiJson(q): ApiJson<QuoteRequestDto>,
) -> ApiResult<QuoteDto> {
    let input = quote_input(&q)?;
    let v = s.svc.quote(&actor, &id, &input, q.on.as_deref()).await?;
    Ok(Json(QuoteDto {
        product_id: v.product_id,
        product_name: v.product_name,
        insurer_name: v.insurer_name,
        plan_version: v.plan_version,
        effective_from: v.effective_from.to_string(),
        on: v.on.to_string(),
        premium_yuan: v.quote.premium.to_yuan_string(),
        steps: v.quote.steps,
    }))
}
