//! The tokens of a CEL expression as cel-rust's ANTLR lexer cuts them (CEL.g4), reduced to
//! what the limits before parsing need: where the code's punctuation is. Nesting is counted
//! on these before the parser runs, so the lexing must be the parser's own, failures
//! included: text a string hides from the count must be text the parser never sees as code.
//! A count that trusts a simpler notion of quoting (a backslash before the closing quote, say)
//! is fooled by `'\\'`, raw strings (`r'\'`), triple quotes holding a quote, or a string with
//! a bad escape, and lets through an expression nested past the parser's own limit.
//!
//! The rules followed, from the grammar and ANTLR's lexer:
//! - the longest match wins: `r'a'` is a raw string, `rx'a'` an identifier then a string;
//! - strings: `'…'`/`"…"` on one line, `'''…'''`/`"""…"""` across lines (ending at the first
//!   closing triple), each with an optional `r`/`R` (raw: no escapes) and before that `b`/`B`
//!   (bytes); escapes outside raw strings are only those CEL defines (`\n`, `\x41`, `\101`,
//!   `\u0041`, ...), any other ends the string in an error;
//! - a token that fails with no shorter match to fall back on (`'''a` falls back to `''`) is
//!   dropped up to and including the character where it failed, and lexing resumes after it;
//! - `//` comments run to the end of the line; backquoted identifiers hold letters, digits and
//!   `_.-/ ` only.

/// One token's kind, as far as nesting cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    /// A single punctuation character of code (`(`, `?`, `.`, `+`, ...).
    Punct(u8),
    /// An identifier, a keyword or a backquoted identifier.
    Word,
    /// A number, string or bytes literal.
    Literal,
}

/// The tokens of `source` with the byte offset each starts at; whitespace, comments and text
/// the lexer drops are left out.
pub(crate) fn tokens(source: &str) -> impl Iterator<Item = (usize, Token)> + '_ {
    let bytes = source.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || loop {
        let start = at;
        bytes.get(start)?;
        match lex_one(bytes, start) {
            Lexed::Token(end, token) => {
                at = end;
                return Some((start, token));
            }
            Lexed::Hidden(end) => at = end,
            // ANTLR drops the characters read and the one it failed on.
            Lexed::Failed(died) => at = died.max(start) + 1,
        }
    })
}

enum Lexed {
    Token(usize, Token),
    /// Whitespace or a comment, ending before this offset.
    Hidden(usize),
    /// No token matches: the lexer failed at this offset (the input's length at its end).
    Failed(usize),
}

fn lex_one(bytes: &[u8], start: usize) -> Lexed {
    let at = |i: usize| bytes.get(i).copied();
    let b = bytes[start];
    match b {
        b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' => Lexed::Hidden(start + 1),
        b'/' if at(start + 1) == Some(b'/') => {
            let end = bytes[start..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(bytes.len(), |n| start + n);
            Lexed::Hidden(end)
        }
        b'\'' | b'"' => match string(bytes, start, false) {
            Ok(end) => Lexed::Token(end, Token::Literal),
            Err(died) => Lexed::Failed(died),
        },
        b'0'..=b'9' => Lexed::Token(number(bytes, start), Token::Literal),
        b'.' if at(start + 1).is_some_and(|c| c.is_ascii_digit()) => {
            Lexed::Token(number(bytes, start), Token::Literal)
        }
        b'`' => backquoted(bytes, start),
        c if c.is_ascii_alphabetic() || c == b'_' => word_or_prefixed_string(bytes, start),
        c if c.is_ascii_punctuation() => Lexed::Token(start + 1, Token::Punct(c)),
        // Anything else (control characters, non-ASCII) is no token.
        _ => Lexed::Failed(start),
    }
}

/// An identifier, unless it is a string prefix (`r`, `b`, `br`, any case) directly followed by
/// a string that lexes: the longer match.
fn word_or_prefixed_string(bytes: &[u8], start: usize) -> Lexed {
    let word_end = bytes[start..]
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
        .map_or(bytes.len(), |n| start + n);
    let word = &bytes[start..word_end];
    let quoted = matches!(bytes.get(word_end), Some(b'\'' | b'"'));
    let raw = match word {
        [b'r' | b'R'] | [b'b' | b'B', b'r' | b'R'] => Some(true),
        [b'b' | b'B'] => Some(false),
        _ => None,
    };
    if let (true, Some(raw)) = (quoted, raw) {
        if let Ok(end) = string(bytes, word_end, raw) {
            return Lexed::Token(end, Token::Literal);
        }
    }
    Lexed::Token(word_end, Token::Word)
}

/// A string from its opening quote at `open`: where it ends, or where it fails when no string
/// form matches (the single-line form matching first and the triple-quoted one failing,
/// `'''a`, gives the single-line `''`).
fn string(bytes: &[u8], open: usize, raw: bool) -> Result<usize, usize> {
    let quote = bytes[open];
    let single = single_line(bytes, open, quote, raw);
    let triple_opens = bytes.get(open + 1) == Some(&quote) && bytes.get(open + 2) == Some(&quote);
    if !triple_opens {
        return single;
    }
    match (triple_quoted(bytes, open, quote, raw), single) {
        (Ok(end), _) => Ok(end),
        // `''` matched before the triple form failed further on: ANTLR falls back to it.
        (Err(_), Ok(end)) => Ok(end),
        (Err(died_triple), Err(died_single)) => Err(died_triple.max(died_single)),
    }
}

fn single_line(bytes: &[u8], open: usize, quote: u8, raw: bool) -> Result<usize, usize> {
    let mut i = open + 1;
    while let Some(&c) = bytes.get(i) {
        match c {
            c if c == quote => return Ok(i + 1),
            b'\n' | b'\r' => return Err(i),
            b'\\' if !raw => i = escape(bytes, i)?,
            _ => i += 1,
        }
    }
    Err(bytes.len())
}

fn triple_quoted(bytes: &[u8], open: usize, quote: u8, raw: bool) -> Result<usize, usize> {
    let mut i = open + 3;
    while let Some(&c) = bytes.get(i) {
        if c == quote && bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote) {
            return Ok(i + 3);
        }
        if c == b'\\' && !raw {
            i = escape(bytes, i)?;
        } else {
            i += 1;
        }
    }
    Err(bytes.len())
}

/// The end of the escape sequence whose backslash is at `slash`, or where it fails.
fn escape(bytes: &[u8], slash: usize) -> Result<usize, usize> {
    let at = |i: usize| bytes.get(i).copied();
    let digits = |from: usize, count: usize, valid: &dyn Fn(u8) -> bool| {
        (from..from + count)
            .find(|&i| !at(i).is_some_and(valid))
            .map_or(Ok(from + count), Err)
    };
    let next = slash + 1;
    match at(next) {
        Some(
            b'a' | b'b' | b'f' | b'n' | b'r' | b't' | b'v' | b'"' | b'\'' | b'\\' | b'?' | b'`',
        ) => Ok(next + 1),
        Some(b'0'..=b'3') => digits(next + 1, 2, &|c| (b'0'..=b'7').contains(&c)),
        Some(b'x' | b'X') => digits(next + 1, 2, &|c| c.is_ascii_hexdigit()),
        Some(b'u') => digits(next + 1, 4, &|c| c.is_ascii_hexdigit()),
        Some(b'U') => digits(next + 1, 8, &|c| c.is_ascii_hexdigit()),
        _ => Err(next.min(bytes.len())),
    }
}

/// A number literal's end: `0x1F`, `12u`, `1.5e-3`, `.5` (the longest match; `1.e5` is `1`,
/// then `.`, then an identifier).
fn number(bytes: &[u8], start: usize) -> usize {
    let at = |i: usize| bytes.get(i).copied();
    let digits_from = |mut i: usize, valid: fn(&u8) -> bool| {
        while at(i).as_ref().is_some_and(valid) {
            i += 1;
        }
        i
    };
    let unsigned = |i: usize| i + usize::from(matches!(at(i), Some(b'u' | b'U')));
    if bytes[start] == b'0'
        && matches!(at(start + 1), Some(b'x' | b'X'))
        && at(start + 2).is_some_and(|c| c.is_ascii_hexdigit())
    {
        return unsigned(digits_from(start + 2, u8::is_ascii_hexdigit));
    }
    let mut i = digits_from(start, u8::is_ascii_digit);
    let mut float = false;
    if at(i) == Some(b'.') && at(i + 1).is_some_and(|c| c.is_ascii_digit()) {
        i = digits_from(i + 1, u8::is_ascii_digit);
        float = true;
    }
    if matches!(at(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(at(i + 1), Some(b'+' | b'-')));
        if at(i + 1 + sign).is_some_and(|c| c.is_ascii_digit()) {
            i = digits_from(i + 1 + sign, u8::is_ascii_digit);
            float = true;
        }
    }
    if float {
        i
    } else {
        unsigned(i)
    }
}

/// `` `name.with-dots` ``: at least one of letters, digits and `_.-/ ` between backquotes.
fn backquoted(bytes: &[u8], open: usize) -> Lexed {
    let allowed =
        |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'/' | b' ');
    let mut i = open + 1;
    while bytes.get(i).is_some_and(|&c| allowed(c)) {
        i += 1;
    }
    match bytes.get(i) {
        Some(b'`') if i > open + 1 => Lexed::Token(i + 1, Token::Word),
        _ => Lexed::Failed(i.min(bytes.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code punctuation of `source`, as a string.
    fn punctuation(source: &str) -> String {
        tokens(source)
            .filter_map(|(_, t)| match t {
                Token::Punct(c) => Some(char::from(c)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn strings_hide_what_the_lexer_hides_and_nothing_more() {
        let cases: &[(&str, &str)] = &[
            // Plain, with escapes that end nothing.
            (r#"f('(', "[")"#, "(,)"),
            (r"'\\' + (1)", "+()"),
            (r"'\'(' + (1)", "+()"),
            (r#""\"(" + (1)"#, "+()"),
            (r"'\x28\101\u0028\U00000028' + (1)", "+()"),
            // Raw strings have no escapes: the backslash is the string's last character.
            (r"r'\' + (1)", "+()"),
            (r"R'\' + (1)", "+()"),
            (r"br'\' + (1)", "+()"),
            // `rb` is an identifier, then an ordinary string (where `\'` escapes).
            (r"rb'\' + (1)'", ""),
            (r"xr'\' + (1)'", ""),
            // A number ends before a prefix: `1r'…'` is `1` then a raw string.
            (r"1r'\' + (1)", "+()"),
            (r"0x1fr'\' + (1)", "+()"),
            (r"1ur'\' + (1)", "+()"),
            (r"1e5r'\' + (1)", "+()"),
            // Triple quotes hold quotes and lines, and end at the first closing triple.
            ("'''it's (''' + (1)", "+()"),
            ("\"\"\"a\n(\"\"\" + (1)", "+()"),
            ("'''a''''' + (1)", "+()"),
            // An unterminated triple falls back to `''`, then lexes on; an unterminated
            // string is dropped to the end.
            ("'''\n(1)", "()"),
            ("'''(", ""),
            ("' + (1)", ""),
            // A bad escape or a line end fails the string: it is dropped up to that
            // character, and what follows is code.
            (r"'\q + (1)", "+()"),
            ("'a\n(1)", "()"),
            ("'a)\n(1)", "()"),
            ("'a\"\"\"(\n(1)\"\"\"", "()"),
            // Comments hide quotes and brackets to the line's end.
            ("1 // it's (\n+ (1)", "+()"),
            // Backquoted identifiers: only a few characters; anything else fails there.
            ("`a.b-c/d e` + (1)", "+()"),
            ("`a)` + (1)", "()"),
            ("`` + (1)", "+()"),
        ];
        for (source, expected) in cases {
            assert_eq!(punctuation(source), *expected, "{source:?}");
        }
    }

    #[test]
    fn numbers_take_the_longest_literal() {
        let ends = |s: &str| number(s.as_bytes(), 0);
        for (source, end) in [
            ("0x1F+", 4),
            ("0x1Fu+", 5),
            ("0xg", 1),
            ("12u", 3),
            ("1.5e-3u", 6),
            ("1.e5", 1),
            ("1e", 1),
            ("1e+7", 4),
            (".5e3", 4),
        ] {
            assert_eq!(ends(source), end, "{source}");
        }
    }

    #[test]
    fn optional_marks_follow_a_dot_or_bracket_token() {
        let kinds: Vec<Token> = tokens("a.?b[?'x'] ? 1 : 2").map(|(_, t)| t).collect();
        assert_eq!(
            kinds,
            [
                Token::Word,
                Token::Punct(b'.'),
                Token::Punct(b'?'),
                Token::Word,
                Token::Punct(b'['),
                Token::Punct(b'?'),
                Token::Literal,
                Token::Punct(b']'),
                Token::Punct(b'?'),
                Token::Literal,
                Token::Punct(b':'),
                Token::Literal,
            ]
        );
    }
}
