//! Cost arithmetic in integer nano-dollars: prices are per 1M tokens or per call, and a
//! fraction of a nano-dollar is always rounded up (the operator never loses to rounding).

use switchyard_store::Price;

/// What a request used, as the provider (or our tokenizer) counted it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input: i64,
    pub output: i64,
    /// Part of `input` read from the provider's prompt cache.
    pub cached: i64,
    /// Billable units for per-call prices (images generated, requests made).
    pub calls: i64,
    /// Seconds of generated media, for per-second prices (video).
    pub seconds: i64,
}

/// The most a request can use, known before it is sent.
pub type Estimate = Usage;

fn per_mtok(tokens: i64, price: i64) -> i128 {
    tokens.max(0) as i128 * price.max(0) as i128
}

pub fn cost(p: &Price, u: &Usage) -> i64 {
    let cached = u.cached.clamp(0, u.input.max(0));
    let cached_price = p.cached_per_mtok.unwrap_or(p.input_per_mtok);
    let micro = per_mtok(u.input - cached, p.input_per_mtok)
        + per_mtok(cached, cached_price)
        + per_mtok(u.output, p.output_per_mtok);
    let tokens = (micro + 999_999) / 1_000_000;
    let calls = u.calls.max(0) as i128 * p.per_call.max(0) as i128;
    let seconds = u.seconds.max(0) as i128 * p.per_second.max(0) as i128;
    (tokens + calls + seconds).min(i64::MAX as i128) as i64
}

/// Convert a USD decimal as written in a config file (e.g. `0.15`) to nano-dollars exactly,
/// going through the decimal text rather than float arithmetic.
pub fn usd_to_nano(usd: f64) -> Result<i64, String> {
    if !usd.is_finite() || usd < 0.0 {
        return Err(format!("price must be a non-negative number, not {usd}"));
    }
    let text = format!("{usd:.9}");
    let (whole, frac) = text.split_once('.').unwrap_or((&text, "0"));
    let whole: i64 = whole
        .parse()
        .map_err(|_| format!("price too large: {usd}"))?;
    let frac: i64 = format!("{frac:0<9}")[..9].parse().unwrap_or(0);
    whole
        .checked_mul(1_000_000_000)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(|| format!("price too large: {usd}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mini() -> Price {
        Price {
            model: "m".into(),
            input_per_mtok: 150_000_000,
            output_per_mtok: 600_000_000,
            ..Default::default()
        }
    }

    #[test]
    fn token_cost_rounds_up() {
        // 1000 in × $0.15/M = $0.00015 = 150_000 nano; 500 out × $0.60/M = 300_000 nano.
        assert_eq!(
            cost(
                &mini(),
                &Usage {
                    input: 1000,
                    output: 500,
                    ..Default::default()
                }
            ),
            450_000
        );
        // One input token costs 150 nano exactly; a price of 1 nano/M rounds up to 1.
        assert_eq!(
            cost(
                &mini(),
                &Usage {
                    input: 1,
                    ..Default::default()
                }
            ),
            150
        );
        let tiny = Price {
            input_per_mtok: 1,
            ..mini()
        };
        assert_eq!(
            cost(
                &tiny,
                &Usage {
                    input: 1,
                    ..Default::default()
                }
            ),
            1
        );
    }

    #[test]
    fn cached_and_per_call() {
        let p = Price {
            cached_per_mtok: Some(75_000_000),
            per_call: 10,
            ..mini()
        };
        let u = Usage {
            input: 1000,
            cached: 400,
            output: 0,
            calls: 2,
            seconds: 0,
        };
        assert_eq!(cost(&p, &u), 600 * 150 + 400 * 75 + 20);
        let video = Price {
            per_call: 100,
            per_second: 50_000_000,
            ..Default::default()
        };
        let five_secs = Usage {
            calls: 1,
            seconds: 5,
            ..Default::default()
        };
        assert_eq!(cost(&video, &five_secs), 250_000_100);
    }

    #[test]
    fn usd_parsing_is_exact() {
        assert_eq!(usd_to_nano(0.15).unwrap(), 150_000_000);
        assert_eq!(usd_to_nano(0.6).unwrap(), 600_000_000);
        assert_eq!(usd_to_nano(2.5).unwrap(), 2_500_000_000);
        assert_eq!(usd_to_nano(0.000000001).unwrap(), 1);
        assert!(usd_to_nano(-1.0).is_err());
    }
}
