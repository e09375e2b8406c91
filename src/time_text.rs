//! Lengths of time as people read them, one way on every screen and in every command:
//! `45s`, `12m03s`, `1h02m`, `3d04h` for how long; `12m` for how long ago; `1h30m` for a
//! configured length. (The config file's own notation, which must read back, is
//! `config::duration`'s.)

/// A duration to the second while short, coarser as it grows: `45s`, `12m03s`, `1h02m`, `3d04h`.
pub fn duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        3600..86400 => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{:02}h", secs / 86400, secs % 86400 / 3600),
    }
}

/// A configured length of time, without zero seconds: `90s`, `30m`, `2h`, `1h30m`.
pub fn round_duration(secs: u64) -> String {
    match secs {
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 3600 && s % 60 == 0 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => duration(s),
    }
}

/// How long ago, in one unit: `3s`, `12m`, `5h`, `3d`.
pub fn age(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    }
}

/// A length in milliseconds, as Hex reports `elapsedTime`: under a second in milliseconds,
/// otherwise as [`duration`]; `-` for a value that is no length (negative, NaN).
pub fn duration_ms(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return "-".into();
    }
    if ms < 1000.0 {
        return format!("{}ms", ms.round());
    }
    // Finite and at least 1000 here; a length past u64 seconds saturates.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let secs = (ms / 1000.0).floor() as u64;
    duration(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_ages_stay_short() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(61), "1m01s");
        assert_eq!(duration(3723), "1h02m");
        assert_eq!(duration(90_000), "1d01h");
        assert_eq!(round_duration(1800), "30m");
        assert_eq!(round_duration(7200), "2h");
        assert_eq!(round_duration(5400), "1h30m");
        assert_eq!(round_duration(90), "1m30s");
        assert_eq!(age(3), "3s");
        assert_eq!(age(600), "10m");
        assert_eq!(age(7200), "2h");
        assert_eq!(age(200_000), "2d");
    }

    #[test]
    fn milliseconds_read_like_the_rest() {
        assert_eq!(duration_ms(850.0), "850ms");
        assert_eq!(duration_ms(42_100.0), "42s");
        assert_eq!(duration_ms(185_000.0), "3m05s");
        assert_eq!(duration_ms(3_720_000.0), "1h02m");
        assert_eq!(duration_ms(f64::NAN), "-");
        assert_eq!(duration_ms(-1.0), "-");
        assert_eq!(duration_ms(f64::MAX), duration(u64::MAX));
    }
}
