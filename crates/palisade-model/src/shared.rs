//! Text that many findings repeat (a field's path, a message about a container called `app`),
//! kept once: a large cluster's half-million findings point at a few hundred distinct fields
//! and say far fewer distinct things than they are.

use std::cell::RefCell;
use std::sync::Arc;
use std::thread::LocalKey;

/// Texts a thread handed out lately, to share with the next equal one.
pub(crate) type Recent = RefCell<foldhash::HashSet<Arc<str>>>;

/// How many texts a thread keeps per table: bounded so that a long-running webhook or operator
/// holds no more than this, whatever it has judged. Sharing is only a saving: a text not found
/// here is simply kept on its own.
const RECENT_LIMIT: usize = 4096;

/// The longest text a table keeps: messages quote what objects hold (names, images, values),
/// and a webhook judging request after request must not keep thousands of long ones. Paths,
/// words and nearly every message are far shorter.
pub(crate) const SHARED_LEN_LIMIT: usize = 512;

thread_local! {
    static MESSAGES: Recent = RefCell::default();
    static WORDS: Recent = RefCell::default();
    static WORD_LISTS: RefCell<foldhash::HashSet<Arc<[Word]>>> = RefCell::default();
}

/// `text`, shared with an equal text of `recent` when there is one; `own` makes it otherwise.
pub(crate) fn share(
    recent: &'static LocalKey<Recent>,
    text: &str,
    own: impl FnOnce() -> Arc<str>,
) -> Arc<str> {
    if text.len() > SHARED_LEN_LIMIT {
        return own();
    }
    recent.with_borrow_mut(|table| {
        if let Some(known) = table.get(text) {
            return Arc::clone(known);
        }
        if table.len() >= RECENT_LIMIT {
            table.clear();
        }
        let owned = own();
        table.insert(Arc::clone(&owned));
        owned
    })
}

/// A finding's message, shared with an equal message this thread made lately.
pub fn shared_message(message: &str) -> Arc<str> {
    share(&MESSAGES, message, || Arc::from(message))
}

/// A short text that many objects repeat (an RBAC rule's verbs, resources and API groups:
/// `get`, `pods`, `apps`), held once per thread's recent words rather than once per rule. It
/// compares with `str` and reads as one, so that it stands where a `String` stood.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Word(Arc<str>);

impl Word {
    /// `text`, shared with an equal word this thread made lately.
    pub fn new(text: &str) -> Self {
        Word(share(&WORDS, text, || Arc::from(text)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A list of words (an RBAC rule's verbs, or its resources), shared with an equal list this
/// thread made lately: copies of one application repeat their roles' rules word for word.
pub fn shared_words(words: impl IntoIterator<Item = Word>) -> Arc<[Word]> {
    let words: Vec<Word> = words.into_iter().collect();
    // A long list (a role naming every resource there is, or a few very long names) is kept on
    // its own, as long texts are: the table holds no more text than the others.
    let text: usize = words.iter().map(|w| w.len()).sum();
    if words.len() > SHARED_LEN_LIMIT / 8 || text > SHARED_LEN_LIMIT {
        return words.into();
    }
    WORD_LISTS.with_borrow_mut(|table| {
        if let Some(known) = table.get(words.as_slice()) {
            return Arc::clone(known);
        }
        if table.len() >= RECENT_LIMIT {
            table.clear();
        }
        let owned: Arc<[Word]> = words.into();
        table.insert(Arc::clone(&owned));
        owned
    })
}

impl std::ops::Deref for Word {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Word {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Word {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Word {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Word {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Word {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl From<&str> for Word {
    fn from(text: &str) -> Self {
        Word::new(text)
    }
}

impl From<String> for Word {
    fn from(text: String) -> Self {
        Word::new(&text)
    }
}

impl std::fmt::Display for Word {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Debug for Word {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl serde::Serialize for Word {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_messages_share_one_text_and_others_do_not() {
        let first = shared_message("container `app` has no memory limit");
        let again = shared_message(&String::from("container `app` has no memory limit"));
        let other = shared_message("container `db` has no memory limit");
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(&*other, "container `db` has no memory limit");
    }

    #[test]
    fn long_texts_are_kept_on_their_own() {
        let long = "x".repeat(SHARED_LEN_LIMIT + 1);
        let before = MESSAGES.with_borrow(|t| t.len());
        let (a, b) = (shared_message(&long), shared_message(&long));
        assert_eq!(&*a, long.as_str());
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(MESSAGES.with_borrow(|t| t.len()), before);
        let limit = "y".repeat(SHARED_LEN_LIMIT);
        assert!(Arc::ptr_eq(
            &shared_message(&limit),
            &shared_message(&limit)
        ));
    }

    #[test]
    fn equal_words_share_one_text_and_compare_as_text() {
        let verbs: Vec<Word> = ["get", "list", "get"].into_iter().map(Word::new).collect();
        assert!(std::ptr::eq(verbs[0].as_str(), verbs[2].as_str()));
        let list = String::from("list");
        assert!(verbs[0] == "get" && verbs[1] != *"get" && verbs[1] == list);
        assert_eq!(verbs.join(","), "get,list,get");
        assert_eq!(format!("{:?} {}", verbs[1], verbs[1]), "\"list\" list");
    }

    #[test]
    fn equal_word_lists_are_one_list() {
        let list = |words: &[&str]| shared_words(words.iter().map(|w| Word::new(w)));
        let (a, b, c) = (
            list(&["get", "list"]),
            list(&["get", "list"]),
            list(&["list", "get"]),
        );
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(&*c, ["list", "get"]);
        assert!(list(&[]).is_empty());
        let many: Vec<String> = (0..=SHARED_LEN_LIMIT / 8)
            .map(|i| format!("r{i}"))
            .collect();
        let many = |()| shared_words(many.iter().map(|w| Word::new(w)));
        assert!(!Arc::ptr_eq(&many(()), &many(())));
        // Two long names: few words, but more text than a table keeps.
        let long = "n".repeat(SHARED_LEN_LIMIT / 2 + 1);
        let pair = || shared_words([Word::new(&long), Word::new(&long)]);
        assert!(!Arc::ptr_eq(&pair(), &pair()));
    }

    #[test]
    fn the_table_stays_bounded_and_texts_stay_right() {
        let texts: Vec<String> = (0..RECENT_LIMIT * 2 + 7).map(|i| format!("m{i}")).collect();
        for text in &texts {
            assert_eq!(&*shared_message(text), text.as_str());
        }
        assert!(MESSAGES.with_borrow(|t| t.len()) <= RECENT_LIMIT);
        // Forgotten texts are made again, equal.
        assert_eq!(&*shared_message("m0"), "m0");
    }
}
