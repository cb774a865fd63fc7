//! Families (variance, deviance, AIC, starting values) and links.

use crate::stats::ln_gamma;
use crate::GlmError;

/// The error distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Family {
    Poisson,
    Gamma,
    /// Tweedie with variance power p, 1 < p < 2 (compound Poisson–Gamma).
    Tweedie(f64),
    /// Proportions y ∈ [0, 1] with the number of trials as the prior weight.
    Binomial,
    Gaussian,
}

/// The link between the mean and the linear predictor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Log,
    Logit,
    Identity,
}

impl Link {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Link::Log => "log",
            Link::Logit => "logit",
            Link::Identity => "identity",
        }
    }

    /// From a name.
    pub fn parse(s: &str) -> Option<Link> {
        match s.trim().to_ascii_lowercase().as_str() {
            "log" => Some(Link::Log),
            "logit" => Some(Link::Logit),
            "identity" => Some(Link::Identity),
            _ => None,
        }
    }

    pub(crate) fn link(self, mu: f64) -> f64 {
        match self {
            Link::Log => mu.ln(),
            Link::Logit => (mu / (1.0 - mu)).ln(),
            Link::Identity => mu,
        }
    }

    pub(crate) fn inverse(self, eta: f64) -> f64 {
        match self {
            Link::Log => eta.exp(),
            // R's binomial()$linkinv clamps to keep μ inside (0, 1).
            Link::Logit => {
                let e = eta.clamp(-30.0, 30.0).exp();
                e / (1.0 + e)
            }
            Link::Identity => eta,
        }
    }

    /// dμ/dη when μ is known already (for the log link it is μ: no second `exp`).
    pub(crate) fn mu_eta_at(self, eta: f64, mu: f64) -> f64 {
        match self {
            Link::Log => mu.max(f64::EPSILON),
            _ => self.mu_eta(eta),
        }
    }

    /// dμ/dη.
    pub(crate) fn mu_eta(self, eta: f64) -> f64 {
        match self {
            Link::Log => eta.exp().max(f64::EPSILON),
            Link::Logit => {
                let opexp = 1.0 + eta.abs().min(30.0).exp();
                if eta.abs() > 30.0 {
                    f64::EPSILON
                } else {
                    eta.abs().exp() / (opexp * opexp)
                }
            }
            Link::Identity => 1.0,
        }
    }
}

impl Family {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Family::Poisson => "poisson",
            Family::Gamma => "gamma",
            Family::Tweedie(_) => "tweedie",
            Family::Binomial => "binomial",
            Family::Gaussian => "gaussian",
        }
    }

    /// The default link: log for Poisson, Gamma and Tweedie (the pricing convention; R's
    /// Gamma default is the inverse link), logit for Binomial, identity for Gaussian.
    pub fn default_link(self) -> Link {
        match self {
            Family::Poisson | Family::Gamma | Family::Tweedie(_) => Link::Log,
            Family::Binomial => Link::Logit,
            Family::Gaussian => Link::Identity,
        }
    }

    /// Whether the dispersion is fixed at 1 (z tests) or estimated (t tests).
    pub fn fixed_dispersion(self) -> bool {
        matches!(self, Family::Poisson | Family::Binomial)
    }

    pub(crate) fn check(self, link: Link) -> Result<(), GlmError> {
        if let Family::Tweedie(p) = self {
            if !(p > 1.0 && p < 2.0) {
                return Err(GlmError::TweediePower(p));
            }
        }
        let ok = match self {
            Family::Binomial => matches!(link, Link::Logit | Link::Log | Link::Identity),
            Family::Gaussian => true,
            _ => matches!(link, Link::Log | Link::Identity),
        };
        if ok {
            Ok(())
        } else {
            Err(GlmError::Link { family: self.name(), link: link.name() })
        }
    }

    /// Checks that y lies in the support.
    pub(crate) fn check_y(self, y: f64, row: usize) -> Result<(), GlmError> {
        let (ok, support) = match self {
            Family::Poisson => (y >= 0.0, "y ≥ 0"),
            Family::Tweedie(_) => (y >= 0.0, "y ≥ 0"),
            Family::Gamma => (y > 0.0, "y > 0"),
            Family::Binomial => ((0.0..=1.0).contains(&y), "0 ≤ y ≤ 1"),
            Family::Gaussian => (true, ""),
        };
        if ok {
            Ok(())
        } else {
            Err(GlmError::Support { family: self.name(), support, value: y, row })
        }
    }

    /// V(μ).
    pub(crate) fn variance(self, mu: f64) -> f64 {
        match self {
            Family::Poisson => mu,
            Family::Gamma => mu * mu,
            Family::Tweedie(p) => mu.powf(p),
            Family::Binomial => mu * (1.0 - mu),
            Family::Gaussian => 1.0,
        }
    }

    /// Whether μ is a valid mean.
    pub(crate) fn valid_mu(self, mu: f64) -> bool {
        mu.is_finite()
            && match self {
                Family::Poisson | Family::Gamma | Family::Tweedie(_) => mu > 0.0,
                Family::Binomial => mu > 0.0 && mu < 1.0,
                Family::Gaussian => true,
            }
    }

    /// R's starting values (`family$initialize`).
    pub(crate) fn mu_start(self, y: f64, w: f64) -> f64 {
        match self {
            Family::Poisson => y + 0.1,
            Family::Tweedie(_) => y + if y == 0.0 { 0.1 } else { 0.0 },
            Family::Gamma | Family::Gaussian => y,
            Family::Binomial => (w * y + 0.5) / (w + 1.0),
        }
    }

    /// The deviance contribution and V(μ) together: for Tweedie they share μ^(1−p), taken
    /// by a square root when p = 1.5, so the hot loop pays at most one `powf` per row.
    pub(crate) fn deviance_and_variance(self, y: f64, mu: f64, w: f64) -> (f64, f64) {
        match self {
            Family::Tweedie(p) => {
                let mu_1p = if p == 1.5 { 1.0 / mu.sqrt() } else { mu.powf(1.0 - p) };
                let a = if y > 0.0 { y.powf(2.0 - p) / ((1.0 - p) * (2.0 - p)) } else { 0.0 };
                let dev = w * 2.0 * (a - y * mu_1p / (1.0 - p) + mu * mu_1p / (2.0 - p));
                // μ^p = μ / μ^(1−p).
                (dev, mu / mu_1p)
            }
            _ => (self.unit_deviance(y, mu, w), self.variance(mu)),
        }
    }

    /// One observation's contribution to the deviance (prior weight included).
    pub(crate) fn unit_deviance(self, y: f64, mu: f64, w: f64) -> f64 {
        let ylogy = |y: f64, mu: f64| if y > 0.0 { y * (y / mu).ln() } else { 0.0 };
        w * match self {
            Family::Poisson => 2.0 * (ylogy(y, mu) - (y - mu)),
            Family::Gamma => -2.0 * ((y / mu).ln() - (y - mu) / mu),
            Family::Tweedie(p) => {
                let a = if y > 0.0 { y.powf(2.0 - p) / ((1.0 - p) * (2.0 - p)) } else { 0.0 };
                // μ^(2−p) = μ·μ^(1−p): one `powf` per row, not two.
                let mu_1p = mu.powf(1.0 - p);
                2.0 * (a - y * mu_1p / (1.0 - p) + mu * mu_1p / (2.0 - p))
            }
            Family::Binomial => 2.0 * (ylogy(y, mu) + ylogy(1.0 - y, 1.0 - mu)),
            Family::Gaussian => (y - mu) * (y - mu),
        }
    }

    /// R's `family$aic` (−2 log-likelihood, plus R's own constant for Gamma and Gaussian);
    /// `None` for Tweedie, whose density has no closed form (R gives NA).
    pub(crate) fn aic_part(self, y: &[f64], mu: &[f64], w: &[f64], dev: f64) -> Option<f64> {
        let rows = y.iter().zip(mu).zip(w);
        match self {
            Family::Poisson => {
                Some(-2.0 * rows.map(|((&y, &m), &w)| w * (y * m.ln() - m - ln_gamma(y + 1.0))).sum::<f64>())
            }
            Family::Binomial => Some(
                -2.0 * rows
                    .map(|((&y, &m), &w)| {
                        if w <= 0.0 {
                            return 0.0;
                        }
                        let n = w.round();
                        let k = (w * y).round();
                        let ln_choose = ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0);
                        let term = |k: f64, p: f64| if k > 0.0 { k * p.ln() } else { 0.0 };
                        ln_choose + term(k, m) + term(n - k, 1.0 - m)
                    })
                    .sum::<f64>(),
            ),
            Family::Gamma => {
                let n: f64 = w.iter().sum();
                let disp = dev / n;
                let shape = 1.0 / disp;
                let ll: f64 = rows
                    .map(|((&y, &m), &w)| {
                        let scale = m * disp;
                        w * ((shape - 1.0) * y.ln() - y / scale - ln_gamma(shape) - shape * scale.ln())
                    })
                    .sum();
                Some(-2.0 * ll + 2.0)
            }
            Family::Gaussian => {
                let nobs = y.len() as f64;
                let sum_log_w: f64 = w.iter().map(|w| w.ln()).sum();
                Some(nobs * ((2.0 * std::f64::consts::PI * dev / nobs).ln() + 1.0) + 2.0 - sum_log_w)
            }
            Family::Tweedie(_) => None,
        }
    }
}
