//! Command-line flags of Kubernetes components, read the way their flag library (pflag) reads
//! them: `--name=value`, `--name value`, a bare boolean `--name`; the last occurrence wins.
//! Comma-separated lists (`--authorization-mode=Node,RBAC`) and `key=value` maps
//! (`--feature-gates=A=true,B=false`) are split on demand.

use palisade_model::{FieldPath, Node, PodView};

/// One flag as written, with where it was written.
#[derive(Clone, Debug)]
pub struct Flag {
    pub name: String,
    pub value: String,
    pub path: FieldPath,
}

/// The flags of one command line, in order.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    flags: Vec<Flag>,
    /// Where a finding about a missing flag points: the command (or args) list.
    pub command_path: FieldPath,
}

impl Flags {
    /// Parses `(text, path)` items of a command line.
    pub fn parse<'a>(
        items: impl IntoIterator<Item = (&'a str, FieldPath)>,
        command_path: FieldPath,
    ) -> Self {
        let items: Vec<(&str, FieldPath)> = items.into_iter().collect();
        let mut flags = Vec::new();
        let mut i = 0;
        while i < items.len() {
            let (text, path) = &items[i];
            i += 1;
            let Some(body) = text.strip_prefix("--").or_else(|| text.strip_prefix('-')) else {
                continue;
            };
            let (name, value) = match body.split_once('=') {
                Some((name, value)) => (name, value.to_string()),
                None => match items.get(i) {
                    Some((next, _)) if !next.starts_with('-') => {
                        i += 1;
                        (body, (*next).to_string())
                    }
                    _ => (body, "true".to_string()),
                },
            };
            flags.push(Flag {
                name: name.to_string(),
                value: unquote(&value).to_string(),
                path: path.clone(),
            });
        }
        Flags {
            flags,
            command_path,
        }
    }

    /// The effective value of `--name`: its last occurrence.
    pub fn get(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().rev().find(|f| f.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Flag> {
        self.flags.iter()
    }
}

fn unquote(value: &str) -> &str {
    let quoted = value.len() >= 2
        && ((value.starts_with('"') && value.ends_with('"'))
            || (value.starts_with('\'') && value.ends_with('\'')));
    if quoted {
        &value[1..value.len() - 1]
    } else {
        value
    }
}

/// The items of a comma-separated list flag.
pub fn list(value: &str) -> Vec<&str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

/// `key=value` entries of a map flag (`--feature-gates`).
pub fn map_entry<'a>(value: &'a str, key: &str) -> Option<&'a str> {
    list(value)
        .into_iter()
        .filter_map(|entry| entry.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim())
}

/// A control-plane component, recognised by the binary its container runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    ApiServer,
    ControllerManager,
    Scheduler,
    Etcd,
    /// A kubelet run in a container (kind, some test clusters and distributions do).
    Kubelet,
}

impl Component {
    pub fn binary(self) -> &'static str {
        match self {
            Component::ApiServer => "kube-apiserver",
            Component::ControllerManager => "kube-controller-manager",
            Component::Scheduler => "kube-scheduler",
            Component::Etcd => "etcd",
            Component::Kubelet => "kubelet",
        }
    }
}

/// The flags of the container of `pod` that runs `component`, if one does: its `command`
/// (binary first, as kubeadm writes static pods) followed by its `args`.
pub fn component_flags(pod: &PodView<'_>, component: Component) -> Option<Flags> {
    for container in pod.containers() {
        let command = container
            .node
            .get("command")
            .map(Node::as_seq)
            .unwrap_or_default();
        let args = container
            .node
            .get("args")
            .map(Node::as_seq)
            .unwrap_or_default();
        let first = command
            .first()
            .or_else(|| args.first())
            .and_then(Node::as_str);
        // A flag is no binary, even when its value is a path (`--kubeconfig=/etc/...`).
        let binary = first
            .filter(|word| !word.starts_with('-'))
            .map(|b| b.rsplit('/').next().unwrap_or(b));
        let image_binary = container
            .node
            .str_of("image")
            .and_then(|i| i.rsplit('/').next())
            .and_then(|i| i.split([':', '@']).next());
        // Images whose entrypoint is the binary carry only flags in `args`, or none at all.
        let runs = binary == Some(component.binary())
            || (command.is_empty()
                && first.is_none_or(|word| word.starts_with("--"))
                && image_binary == Some(component.binary()));
        if !runs {
            continue;
        }
        let command_path = container.path.key("command");
        let args_path = container.path.key("args");
        let items = command
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.as_str().map(|s| (s, command_path.index(i))))
            .chain(
                args.iter()
                    .enumerate()
                    .filter_map(|(i, n)| n.as_str().map(|s| (s, args_path.index(i)))),
            );
        let at = if command.is_empty() {
            args_path.clone()
        } else {
            command_path.clone()
        };
        return Some(Flags::parse(items, at));
    }
    None
}

/// Splits a shell-like argument string (a systemd `ExecStart` or an environment file value)
/// into words: whitespace separates, quotes group, `\` escapes.
pub fn shell_words(text: &str) -> Vec<(usize, String)> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut start = None;
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if let Some(s) = start.take() {
                    words.push((s, std::mem::take(&mut current)));
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                start.get_or_insert(i);
            }
            (Some(q), c) if c == q => quote = None,
            (_, '\\') => {
                start.get_or_insert(i);
                if let Some((_, escaped)) = chars.next() {
                    current.push(escaped);
                }
            }
            (_, c) => {
                start.get_or_insert(i);
                current.push(c);
            }
        }
    }
    if let Some(s) = start {
        words.push((s, current));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(items: &[&str]) -> Flags {
        Flags::parse(
            items
                .iter()
                .enumerate()
                .map(|(i, s)| (*s, FieldPath::root().index(i))),
            FieldPath::root(),
        )
    }

    #[test]
    fn flags_read_like_pflag() {
        let flags = parse(&[
            "kube-apiserver",
            "--anonymous-auth=false",
            "--profiling",
            "--audit-log-path",
            "/var/log/audit.log",
            "--authorization-mode=Node,RBAC",
            "--anonymous-auth=true",
            "--feature-gates=RotateKubeletServerCertificate=false,Foo=true",
        ]);
        assert_eq!(
            flags.get("anonymous-auth").map(|f| f.value.as_str()),
            Some("true")
        );
        assert_eq!(
            flags.get("profiling").map(|f| f.value.as_str()),
            Some("true")
        );
        assert_eq!(
            flags.get("audit-log-path").map(|f| f.value.as_str()),
            Some("/var/log/audit.log")
        );
        let mode = flags.get("authorization-mode").expect("set");
        assert_eq!(list(&mode.value), vec!["Node", "RBAC"]);
        let gates = flags.get("feature-gates").expect("set");
        assert_eq!(
            map_entry(&gates.value, "RotateKubeletServerCertificate"),
            Some("false")
        );
        assert_eq!(
            flags.get("anonymous-auth").map(|f| f.path.clone()),
            Some(FieldPath::root().index(6))
        );
    }

    #[test]
    fn shell_words_group_quotes_and_escapes() {
        let words: Vec<String> = shell_words(r#"--a=1  --b="x y" --c='z' \--d"#)
            .into_iter()
            .map(|(_, w)| w)
            .collect();
        assert_eq!(words, vec!["--a=1", "--b=x y", "--c=z", "--d"]);
        assert_eq!(shell_words("  --a=1")[0].0, 2);
    }
}
