//! Does a value look like a credential? Judged by well-known token formats (private keys, cloud
//! and forge tokens, JWTs, URLs with a password) and by key names (`DB_PASSWORD`,
//! `clientSecret`) whose value is not a placeholder, a reference or a setting.
//!
//! The answer names the kind of credential, never the value: callers put it in messages.

/// What a suspected credential looks like, for messages.
pub type Suspicion = &'static str;

/// Words of a key name that make its value a credential.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "credential",
    "credentials",
    "apikey",
    "authorization",
    "bearer",
];

/// Word pairs that name a key: `api_key`, `ACCESS_KEY`, `privateKey`.
const SECRET_PAIRS: &[(&str, &str)] = &[
    ("api", "key"),
    ("access", "key"),
    ("private", "key"),
    ("secret", "key"),
    ("auth", "key"),
    ("signing", "key"),
    ("encryption", "key"),
    ("master", "key"),
    // Azure storage and account keys (`AccountKey`, `AZURE_STORAGE_KEY`).
    ("account", "key"),
    ("storage", "key"),
    ("shared", "key"),
    // OCI API signing keys written inline (`key_content`).
    ("key", "content"),
    // GCP service-account JSON (`GCP_SERVICE_ACCOUNT_JSON`, `sa_json`).
    ("account", "json"),
    ("sa", "json"),
    ("sa", "key"),
];

/// A key whose last word is one of these holds something about a credential (its file, its
/// Secret's name, its lifetime), not the credential.
const SETTING_WORDS: &[&str] = &[
    "volume",
    "file",
    "files",
    "path",
    "dir",
    "name",
    "names",
    "ref",
    "url",
    "uri",
    "endpoint",
    "host",
    "ttl",
    "expiry",
    "expiration",
    "lifetime",
    "timeout",
    "seconds",
    "secs",
    "length",
    "size",
    "enabled",
    "enable",
    "required",
    "mode",
    "type",
    "header",
    "policy",
    "version",
    "id",
    "audience",
    "audiences",
    "issuer",
    "namespace",
    "mount",
    "location",
    "store",
    "provider",
    "format",
    "rotation",
    "period",
    "interval",
    "algorithm",
    "count",
    "min",
    "max",
    "field",
    "env",
    "source",
    "hash",
    "label",
    "selector",
    "template",
    "annotation",
];

/// Values that configure rather than authenticate.
const PLACEHOLDERS: &[&str] = &[
    "true", "false", "yes", "no", "on", "off", "none", "null", "nil", "empty", "redacted",
    "example", "required", "optional", "enabled", "disabled",
];

/// Splits a key into lowercase words at `_`, `-`, `.`, `/`, spaces and camelCase boundaries
/// (`s3AccessKeyIDName` is `s3 access key id name`).
fn words(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let previous = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next = chars.get(i + 1).copied();
        let boundary = !c.is_ascii_alphanumeric();
        let camel = c.is_ascii_uppercase()
            && previous.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
            });
        if (boundary || camel) && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        if !boundary {
            current.push(c.to_ascii_lowercase());
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Whether a key names a credential (and not a setting about one).
pub fn is_credential_name(key: &str) -> bool {
    // Every credential name holds one of these; most keys (and config-file lines) hold none,
    // and are answered without splitting them into words.
    const TRIGGERS: &[&str] = &[
        "pass",
        "pwd",
        "secret",
        "token",
        "credential",
        "key",
        "json",
        "auth",
        "bearer",
    ];
    // Case-insensitive, without a lowercase copy, looking further only where a trigger could
    // start: a config file's every line comes here.
    let bytes = key.as_bytes();
    let triggered = (0..bytes.len()).any(|at| {
        matches!(
            bytes[at].to_ascii_lowercase(),
            b'p' | b's' | b't' | b'c' | b'k' | b'j' | b'a' | b'b'
        ) && TRIGGERS.iter().any(|trigger| {
            bytes
                .get(at..at + trigger.len())
                .is_some_and(|window| window.eq_ignore_ascii_case(trigger.as_bytes()))
        })
    });
    if !triggered {
        return false;
    }
    let words = words(key);
    let Some(last) = words.last() else {
        return false;
    };
    if SETTING_WORDS.contains(&last.as_str()) {
        return false;
    }
    let joined = words.concat();
    words.iter().any(|w| SECRET_WORDS.contains(&w.as_str()))
        || words
            .windows(2)
            .any(|pair| SECRET_PAIRS.contains(&(pair[0].as_str(), pair[1].as_str())))
        || [
            "password",
            "passwd",
            "apikey",
            "secretkey",
            "privatekey",
            "accesskey",
        ]
        .iter()
        .any(|w| joined.contains(w))
}

/// Whether a value under a credential-looking name is a real value rather than a placeholder,
/// a template, a reference to elsewhere or a setting. However short or weak (`admin`,
/// `letmein`, `changeme`, `123456`: the worst kind), a literal value is a credential.
fn is_plausible_secret_value(value: &str) -> bool {
    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
    if value.is_empty() || value.chars().any(char::is_whitespace) {
        return false;
    }
    // The start of a block scalar or a structure on the next lines, not a value.
    const OPENERS: &[&str] = &["|", "|-", "|+", ">", ">-", ">+", "{", "[", "{}", "[]"];
    if OPENERS.contains(&value) {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    if PLACEHOLDERS.contains(&lower.as_str())
        || value.contains("${")
        || value.contains("{{")
        || value.contains("$(")
        || value.contains("%(")
        || value.starts_with('<')
        || value.starts_with('/')
        || value.starts_with("./")
        || value.starts_with("file:")
        || value.starts_with("vault:")
        || value.starts_with("ref+")
        || value.starts_with("arn:")
        || value.starts_with("projects/")
        || value.starts_with("http://")
        || value.starts_with("https://")
        || lower.contains("xxxx")
        || lower.contains("****")
        || lower.starts_with("your")
        || lower.starts_with("replace")
        || lower.starts_with("dummy")
        || lower.starts_with("placeholder")
    {
        return false;
    }
    // The name of an environment variable (`AWS_SECRET_ACCESS_KEY`) points elsewhere.
    let env_name = value.contains('_')
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if env_name {
        return false;
    }
    // One repeated character (`--------`) is a mask, not a value.
    let first = value.chars().next();
    value.chars().count() < 4 || !value.chars().all(|c| Some(c) == first)
}

/// `Bearer <token>` (an `Authorization` header's value), with a token long enough to be real.
/// The scheme is matched in any letter case (`bearer`, `BEARER`), as HTTP matches it.
fn bearer_token(text: &str) -> bool {
    // Without copying the text, and found with memchr: values of every scanned object come
    // through here (a search for either of two chars decodes every character of the text).
    memchr::memchr2_iter(b'b', b'B', text.as_bytes()).any(|at| {
        let scheme = text.get(at..at + 7);
        if !scheme.is_some_and(|s| s.eq_ignore_ascii_case("bearer ")) {
            return false;
        }
        let token: String = text
            .get(at + 7..)
            .unwrap_or_default()
            .chars()
            .take_while(|c| is_token_char(*c) || matches!(c, '.' | '~' | '+' | '/' | '='))
            .collect();
        token.len() >= 16 && !token.contains("xxxx")
    })
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn all_of(s: &str, class: fn(char) -> bool) -> bool {
    s.chars().all(class)
}

/// The shortest token [`known_token`] recognises (a Slack token's prefix and ten characters).
const SHORTEST_TOKEN: usize = 15;

/// AWS access key IDs start with one of these, then 16 capitals or digits.
const AWS_KEY_PREFIXES: &[&str] = &["AKIA", "ASIA"];

/// Token formats known by a prefix and a least number of token characters after it.
const PREFIXED_TOKENS: &[(&str, usize, Suspicion)] = &[
    ("ghp_", 36, "a GitHub token"),
    ("gho_", 36, "a GitHub token"),
    ("ghu_", 36, "a GitHub token"),
    ("ghs_", 36, "a GitHub token"),
    ("ghr_", 36, "a GitHub token"),
    ("github_pat_", 40, "a GitHub token"),
    ("glpat-", 20, "a GitLab token"),
    ("xoxb-", 10, "a Slack token"),
    ("xoxp-", 10, "a Slack token"),
    ("xoxa-", 10, "a Slack token"),
    ("xoxr-", 10, "a Slack token"),
    ("xoxs-", 10, "a Slack token"),
    ("AIza", 35, "a Google API key"),
    ("sk_live_", 16, "a Stripe live key"),
    ("rk_live_", 16, "a Stripe live key"),
    ("npm_", 36, "an npm token"),
];

/// A JSON Web Token's header and payload start so (`{"` in base64url).
const JWT_PREFIX: &str = "eyJ";

/// A token format that is a credential wherever it appears. Every format starts with a
/// prefix above: [`first_known_token`] looks only at tokens that start with one.
fn known_token(token: &str) -> Option<Suspicion> {
    if token.len() < SHORTEST_TOKEN {
        return None;
    }
    if AWS_KEY_PREFIXES.iter().any(|p| token.starts_with(p))
        && token.len() == 20
        && all_of(token, |c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Some("an AWS access key ID");
    }
    let prefixed = PREFIXED_TOKENS.iter().find(|(prefix, min, _)| {
        token
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.len() >= *min && all_of(rest, is_token_char))
    });
    if let Some((_, _, what)) = prefixed {
        return Some(what);
    }
    if token.starts_with(JWT_PREFIX) {
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() == 3
            && parts[1].starts_with(JWT_PREFIX)
            && parts
                .iter()
                .all(|p| p.len() >= 10 && all_of(p, is_token_char))
        {
            return Some("a JSON Web Token");
        }
    }
    None
}

/// A password in a URL's user info: `postgres://app:s3cret@db:5432/shop`.
fn url_password(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let after = &rest[at + 3..];
        let authority = after
            .split(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .next()
            .unwrap_or("");
        let password = authority
            .rsplit_once('@')
            .and_then(|(userinfo, _)| userinfo.split_once(':'))
            .map(|(_, password)| password);
        if let Some(password) = password {
            let templated = password.starts_with('$')
                || password.starts_with('<')
                || password.contains("{{")
                || password.chars().all(|c| c == '*' || c == 'x');
            if !password.is_empty() && !templated {
                return true;
            }
        }
        rest = after;
    }
    false
}

/// What a value is, if it is a credential by its format alone.
pub fn suspect_value(value: &str) -> Option<Suspicion> {
    if value.contains("-----BEGIN") && value.contains("PRIVATE KEY") {
        return Some("a private key");
    }
    if url_password(value) {
        return Some("a URL with a password");
    }
    if bearer_token(value) {
        return Some("a bearer token");
    }
    if value.contains("\"type\"") && value.contains("\"service_account\"") {
        return Some("a GCP service-account key");
    }
    first_known_token(value)
}

/// The first token of `value` in a format [`known_token`] recognises. Tokens are runs of ASCII
/// letters, digits, `_`, `-` and `.`; every format starts with a known prefix, so only runs
/// that start with one are looked at, found in one pass over the bytes (walking every byte of
/// a config file's text to cut it into runs was most of [`suspect_value`]'s time).
fn first_known_token(value: &str) -> Option<Suspicion> {
    let bytes = value.as_bytes();
    token_prefixes()
        .find_iter(bytes)
        .map(|found| found.start())
        // A prefix inside a run is no token's start.
        .filter(|&start| start == 0 || !is_token_byte(bytes[start - 1]))
        .filter_map(|start| {
            let length = bytes[start..]
                .iter()
                .position(|&b| !is_token_byte(b))
                .unwrap_or(bytes.len() - start);
            let token = &bytes[start..start + length];
            (token.len() >= SHORTEST_TOKEN)
                .then(|| std::str::from_utf8(token).ok())
                .flatten()
        })
        .find_map(known_token)
}

/// A byte of a token [`suspect_value`] looks at.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// The prefixes every format [`known_token`] recognises starts with.
fn token_prefixes() -> &'static aho_corasick::AhoCorasick {
    static PREFIXES: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    PREFIXES.get_or_init(|| {
        let prefixes = AWS_KEY_PREFIXES
            .iter()
            .chain(PREFIXED_TOKENS.iter().map(|(prefix, _, _)| prefix))
            .chain([&JWT_PREFIX]);
        aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(prefixes)
            .unwrap_or_else(|_| unreachable!("the prefixes are a few short literals"))
    })
}

/// What the value under `key` is, if it looks like a credential.
pub fn suspect(key: &str, value: &str) -> Option<Suspicion> {
    if let Some(found) = suspect_value(value) {
        return Some(found);
    }
    (is_credential_name(key) && is_plausible_secret_value(value))
        .then_some("a credential (by its name)")
}

/// A credential inside a configuration file's text (properties, `.env`, YAML, JSON, INI):
/// the 1-based line and what it looks like. Each line is read as `key = value` or
/// `key: value`.
pub fn suspect_in_text(text: &str) -> Option<(usize, Suspicion)> {
    // A line holds a credential format only if the whole text does (every format lies within
    // one line): most texts are read once for formats, not once per line.
    lines_in_text(text, suspect_value(text).is_some())
}

/// [`suspect_in_text`] for a text already known to hold no credential format anywhere (after
/// [`suspect`] said nothing of it): only the lines' key names are judged.
pub fn suspect_by_name_in_text(text: &str) -> Option<(usize, Suspicion)> {
    lines_in_text(text, false)
}

/// Reads `text` line by line; `formats`: whether some line may hold a credential format.
fn lines_in_text(text: &str, formats: bool) -> Option<(usize, Suspicion)> {
    if !text.contains('\n') {
        return None;
    }
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.starts_with("//") || trimmed.starts_with(';') {
            continue;
        }
        if let Some(found) = formats.then(|| suspect_value(trimmed)).flatten() {
            // A private key spans lines: its header is the line to point at.
            return Some((i + 1, found));
        }
        let split = memchr::memchr2(b'=', b':', trimmed.as_bytes())
            .map(|at| (&trimmed[..at], &trimmed[at + 1..]));
        if let Some((key, value)) = split {
            let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
            let key = key.strip_prefix("export ").unwrap_or(key);
            let value = value.trim().trim_end_matches(',');
            // Braces, semicolons or parentheses before the separator make the line code
            // (`location / { proxy_pass http://...`), not `key: value`.
            let code = key.contains(['{', '}', ';', '(', ')']);
            if !code && is_credential_name(key) && is_plausible_secret_value(value) {
                return Some((i + 1, "a credential (by its name)"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_hold_credentials() {
        for key in [
            "DB_PASSWORD",
            "dbPassword",
            "client-secret",
            "GITHUB_TOKEN",
            "api_key",
            "APIKey",
            "AWS_SECRET_ACCESS_KEY",
            "privateKey",
            "smtp.passwd",
            "REDIS_PASS_WORD",
        ] {
            assert!(is_credential_name(key), "{key}");
        }
    }

    #[test]
    fn names_that_hold_settings_about_credentials() {
        for key in [
            "DB_PASSWORD_FILE",
            "secretName",
            "token-ttl",
            "TOKEN_EXPIRY",
            "jwt.issuer",
            "TOKEN_URL",
            "AWS_ACCESS_KEY_ID",
            "LOG_LEVEL",
            "tokenizer",
            "key",
            "keySelector",
            "s3AccessKeyIDName",
            "s3SecretAccessKeyName",
        ] {
            assert!(!is_credential_name(key), "{key}");
        }
    }

    #[test]
    fn placeholders_references_and_settings_are_not_credentials() {
        for value in [
            "",
            "true",
            "${DB_PASSWORD}",
            "{{ .Values.password }}",
            "$(SECRET)",
            "<your-password>",
            "/run/secrets/db",
            "xxxxxxxx",
            "********",
            "--------",
            "vault:secret/data/db#password",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db",
            "a sentence with words",
            "AWS_SECRET_ACCESS_KEY",
            "|-",
            "{",
        ] {
            assert_eq!(suspect("DB_PASSWORD", value), None, "{value}");
        }
        assert_eq!(
            suspect("DB_PASSWORD", "Sup3r-S3cret!"),
            Some("a credential (by its name)")
        );
        // Weak is still a credential: the worst kind.
        for value in [
            "admin",
            "letmein",
            "changeme",
            "changeit",
            "supersecret",
            "123456",
            "pw",
        ] {
            assert_eq!(
                suspect("DB_PASSWORD", value),
                Some("a credential (by its name)"),
                "{value}"
            );
        }
    }

    #[test]
    fn vendor_credentials_and_bearer_tokens() {
        for key in [
            "AZURE_STORAGE_KEY",
            "AccountKey",
            "storageAccountKey",
            "key_content",
            "GCP_SERVICE_ACCOUNT_JSON",
            "Authorization",
        ] {
            assert!(is_credential_name(key), "{key}");
        }
        for key in ["serviceAccount", "serviceAccountName", "authorizationMode"] {
            assert!(!is_credential_name(key), "{key}");
        }
        assert_eq!(
            suspect_value("Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9x"),
            Some("a bearer token")
        );
        assert_eq!(suspect_value("Authorization: Bearer $TOKEN"), None);
        for scheme in ["bearer", "BEARER", "BeArEr"] {
            assert_eq!(
                suspect_value(&format!(
                    "Authorization: {scheme} eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9x"
                )),
                Some("a bearer token"),
                "{scheme}"
            );
        }
        assert_eq!(
            suspect_value(r#"{"type": "service_account", "project_id": "shop"}"#),
            Some("a GCP service-account key")
        );
    }

    #[test]
    fn token_formats_are_credentials_under_any_name() {
        let cases = [
            ("AKIA", "AKIAIOSFODNN7EXAMPLE", "an AWS access key ID"),
            (
                "gh",
                "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                "a GitHub token",
            ),
            ("slack", "xoxb-123456789012-abcdefghij", "a Slack token"),
            (
                "maps",
                "AIzaSyA1234567890abcdefghijklmnopqrstuv",
                "a Google API key",
            ),
            (
                "auth",
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLXZhbHVl",
                "a JSON Web Token",
            ),
            (
                "DATABASE_URL",
                "postgres://shop:s3cretpass@db.shop.svc:5432/shop",
                "a URL with a password",
            ),
            (
                "tls.key",
                "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n",
                "a private key",
            ),
        ];
        for (key, value, kind) in cases {
            assert_eq!(suspect(key, value), Some(kind), "{key}");
        }
        assert_eq!(
            suspect("DATABASE_URL", "postgres://db.shop.svc:5432/shop"),
            None
        );
        assert_eq!(
            suspect("CA_BUNDLE", "-----BEGIN CERTIFICATE-----\nMIIB"),
            None
        );
    }

    /// What `suspect_value` found in its token runs before it looked for their prefixes:
    /// every run cut out and judged.
    fn first_token_by_cutting_runs(value: &str) -> Option<Suspicion> {
        value
            .as_bytes()
            .split(|&b| !is_token_byte(b))
            .filter(|token| token.len() >= SHORTEST_TOKEN)
            .filter_map(|token| std::str::from_utf8(token).ok())
            .find_map(known_token)
    }

    #[test]
    fn tokens_are_found_by_their_prefixes_as_by_cutting_every_run() {
        let tokens = [
            "AKIAIOSFODNN7EXAMPLE",
            "ASIAIOSFODNN7EXAMPLE",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "ghs_abcdefghijklmnopqrstuvwxyz0123456789",
            "github_pat_abcdefghijklmnopqrstuvwxyz0123456789ABCD",
            "glpat-abcdefghij0123456789",
            "xoxp-123456789012-abcdefghij",
            "AIzaSyA1234567890abcdefghijklmnopqrstuv",
            "sk_live_abcdefghij0123456789",
            "rk_live_abcdefghij0123456789",
            "npm_abcdefghijklmnopqrstuvwxyz0123456789",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLXZhbHVl",
            // Prefixes of runs that are no token.
            "ghp_short",
            "AKIAlowercase1234567",
            "eyJnotAJwt",
            "ghost-writer-of-the-config-file",
        ];
        // Around each: nothing, separators, a run it is inside of, another token.
        let frames = [
            ("", ""),
            ("key: ", "\n"),
            ("x", ""),
            ("", "x"),
            ("a.b-", "_c"),
            ("token=\"", "\";"),
            (
                "AKIAlowercase1234567 ",
                " ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            ),
            ("xoxp-123456789012-abcdefghij,", ""),
            ("é", "é"),
        ];
        for token in tokens {
            for (before, after) in frames {
                let text = format!("{before}{token}{after}");
                assert_eq!(
                    first_known_token(&text),
                    first_token_by_cutting_runs(&text),
                    "{text:?}"
                );
            }
        }
        // Each format is found at all, each prefixed one at its least length.
        for token in &tokens[..12] {
            assert!(first_known_token(token).is_some(), "{token}");
        }
        for (prefix, least, what) in PREFIXED_TOKENS {
            let token = format!("{prefix}{}", "a".repeat(*least));
            assert_eq!(
                first_known_token(&format!("key: {token}\n")),
                Some(*what),
                "{token}"
            );
            assert_eq!(
                first_known_token(&token[..token.len() - 1]),
                None,
                "{token}"
            );
        }
    }

    #[test]
    fn code_lines_are_not_key_value_lines() {
        let nginx = "server {\n  location /api { proxy_pass http://backend:8080; }\n  proxy_set_header X-Token $token;\n}\n";
        assert_eq!(suspect_in_text(nginx), None);
        // A credential format is found on any line, code or not.
        let with_header = "location / {\n  proxy_set_header Authorization \"Bearer abcdefghijklmnopqrstuvwxyz012345\";\n}\n";
        assert_eq!(suspect_in_text(with_header), Some((2, "a bearer token")));
        assert_eq!(
            suspect_in_text("[db]\npassword = hunter2hunter2\n"),
            Some((2, "a credential (by its name)"))
        );
    }

    #[test]
    fn config_file_text_is_read_line_by_line() {
        let properties =
            "server.port=8080\n# db.password=old\nspring.datasource.password=Pr0d-Passw0rd\n";
        assert_eq!(
            suspect_in_text(properties),
            Some((3, "a credential (by its name)"))
        );
        let clean = "server.port=8080\nspring.datasource.password=${DB_PASSWORD}\n";
        assert_eq!(suspect_in_text(clean), None);
    }
}
