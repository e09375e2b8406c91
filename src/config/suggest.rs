//! "Did you mean ...?" for misspelt keys, profiles and aliases.
//!
//! Owns a small edit distance and the rule for which candidates are close enough to offer.
//! Pure; knows nothing of TOML.

/// Edit distance over characters, counting a swap of two neighbours as one edit ("prdo" is one
/// slip from "prod"): the optimal-string-alignment variant of Damerau-Levenshtein.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: two back (for swaps), previous, current.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// How far a word may be from a candidate and still be offered.
fn close_enough(word: &str, candidate: &str) -> Option<usize> {
    let len = word.chars().count();
    let allowed = (len / 3).max(1);
    let full = edit_distance(word, candidate);
    if full <= allowed {
        return Some(full);
    }
    // Abbreviations and truncations ("tokn" for "token_file", "req_timeout"): compare with the
    // candidate's prefix of about the same length, but rank behind whole-word matches.
    if len >= 3 {
        let prefix_dist = [len, len + 1]
            .iter()
            .map(|&n| edit_distance(word, &candidate.chars().take(n).collect::<String>()))
            .min()
            .unwrap_or(usize::MAX);
        if prefix_dist <= 1 {
            return Some(allowed + 1 + prefix_dist);
        }
    }
    None
}

/// The closest candidates, or none when nothing is close. Ties are all returned, in input order.
pub fn suggestions<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut best: Vec<&str> = Vec::new();
    let mut best_score = usize::MAX;
    for c in candidates {
        if c == word {
            continue;
        }
        if let Some(score) = close_enough(word, c) {
            if score < best_score {
                best_score = score;
                best.clear();
            }
            if score == best_score && !best.contains(&c) {
                best.push(c);
            }
        }
    }
    best.truncate(3);
    best
}

/// `did you mean "x"?` / `did you mean "x" or "y"?`, or None.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let found = suggestions(word, candidates);
    let quoted: Vec<String> = found.iter().map(|c| format!("{c:?}")).collect();
    match quoted.as_slice() {
        [] => None,
        [one] => Some(format!("did you mean {one}?")),
        [init @ .., last] => Some(format!("did you mean {} or {last}?", init.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE_KEYS: [&str; 5] = ["base_url", "token_env", "token_file", "read_only", "limits"];

    #[test]
    fn distance_is_levenshtein() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("prdo", "prod"), 1);
        assert_eq!(edit_distance("abc", "ca"), 3);
    }

    #[test]
    fn close_words_are_suggested() {
        assert_eq!(
            did_you_mean("base_ulr", PROFILE_KEYS).as_deref(),
            Some("did you mean \"base_url\"?")
        );
        assert_eq!(
            did_you_mean("readonly", PROFILE_KEYS).as_deref(),
            Some("did you mean \"read_only\"?")
        );
        assert_eq!(
            did_you_mean("cancle_run", ["cancel_run", "launch"]).as_deref(),
            Some("did you mean \"cancel_run\"?")
        );
    }

    #[test]
    fn truncations_are_suggested_and_ties_listed() {
        assert_eq!(
            did_you_mean("tokn", PROFILE_KEYS).as_deref(),
            Some("did you mean \"token_env\" or \"token_file\"?")
        );
        assert_eq!(
            did_you_mean("token_fil", PROFILE_KEYS).as_deref(),
            Some("did you mean \"token_file\"?")
        );
    }

    #[test]
    fn far_words_are_not_suggested() {
        assert_eq!(did_you_mean("colour", PROFILE_KEYS), None);
        assert_eq!(
            did_you_mean("x", ["y", "limits"]).as_deref(),
            Some("did you mean \"y\"?")
        );
        assert_eq!(did_you_mean("zz", ["limits"]), None);
    }
}
