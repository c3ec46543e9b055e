//! CEL expressions as the API server evaluates them for ValidatingAdmissionPolicies: compiled
//! once, evaluated against `object`, `oldObject`, `params`, `namespaceObject`, `request` and the
//! policy's `variables`, with Kubernetes' extension libraries (strings, lists, regex, URLs,
//! quantities, IP/CIDR). Built on cel-rust through kube-cel.
//!
//! What is not Kubernetes' behaviour is refused rather than guessed: `authorizer` cannot be
//! answered offline and is an evaluation error, so the policy's `failurePolicy` decides;
//! [`Expression::compile_for`] refuses what the target Kubernetes version's CEL does not have
//! yet; an expression deeper than [`MAX_NESTING`] comprehensions, or longer than
//! [`MAX_EXPRESSION`] characters, is refused at compile time; and an evaluation whose
//! comprehensions could pass [`MAX_COST`] steps is refused before it starts (cel-rust cannot
//! interrupt one). The optional syntax (`.?field`, `[?key]`) compiles, with `.?` rewritten as
//! `[?'field']` (see `optional_select_as_index`).

use serde_json::Value as Json;

mod lexer;
use lexer::Token;

/// Comprehensions (`all`, `exists`, `map`, `filter`, ...) nested deeper than this are refused:
/// their cost multiplies with every level and cel-rust cannot interrupt an evaluation.
pub const MAX_NESTING: usize = 3;
/// Expressions nested deeper than this (brackets, parentheses, braces, conditionals) are
/// refused before they are parsed: cel-rust's parser recurses for every level, with large
/// frames (about 70 KB each in a debug build), and its own recursion limit (96) trips an
/// arithmetic overflow in cel 0.12. Real policies nest a handful of levels.
pub const MAX_DEPTH: usize = 48;
/// The parser runs on a thread of its own with this much stack, whatever thread compiles
/// (a webhook's blocking pool, rayon's workers: 2 MB each), so [`MAX_DEPTH`] levels fit.
const PARSER_STACK: usize = 16 << 20;
/// Longer expressions are refused (the API server's limit is on cost, this one on size).
pub const MAX_EXPRESSION: usize = 5_000;
/// An evaluation whose comprehensions could take more steps than this is refused before it
/// starts, as the API server stops one past its per-call cost limit (1,000,000): the estimate
/// is the longest list the inputs hold, to the power of the comprehensions' nesting.
pub const MAX_COST: u64 = 1_000_000;

/// Why an expression does not compile.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CompileError {
    pub message: String,
}

/// Why an evaluation failed (a missing field without `has`, a type mismatch, an overflow).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub message: String,
}

/// A compiled expression.
pub struct Expression {
    source: String,
    program: cel::parser::Expression,
    /// It asks the cluster's authorizer: an evaluation error offline.
    authorizer: bool,
    /// How deeply its comprehensions nest.
    depth: usize,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expression")
            .field("source", &self.source)
            .finish()
    }
}

const COMPREHENSIONS: &[&str] = &["all", "exists", "exists_one", "map", "filter"];

/// How deeply comprehension macros nest in `source`, by their parentheses: a `(` after `.`
/// and a macro's name opens a comprehension (whitespace and comments between are allowed).
fn nesting(source: &str) -> usize {
    let mut stack: Vec<bool> = Vec::new();
    let mut deepest = 0;
    // The word just before, when a `.` came before it.
    let mut method = None;
    let mut previous = None;
    for (i, token) in lexer::tokens(source) {
        match token {
            Token::Punct(b'(') => {
                let comprehension = matches!(previous, Some(Token::Word))
                    && method.is_some_and(|name| COMPREHENSIONS.contains(&name));
                stack.push(comprehension);
                deepest = deepest.max(stack.iter().filter(|c| **c).count());
            }
            Token::Punct(b')') => {
                stack.pop();
            }
            Token::Word => {
                let rest = &source[i..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                method = matches!(previous, Some(Token::Punct(b'.'))).then_some(&rest[..end]);
            }
            _ => {}
        }
        previous = Some(token);
    }
    deepest
}

/// How deep `source` nests, as the parser will recurse: the deepest brackets, parentheses and
/// braces, plus every conditional (`a ? b : c ? d : e` nests on the right). Counted on the
/// parser's own tokens (see [`lexer`]): quoted text and comments are no nesting, and the `?`
/// of optional syntax (`.?field`, `[?key]`) is no conditional.
fn syntax_depth(source: &str) -> usize {
    let (mut depth, mut deepest, mut conditionals) = (0usize, 0usize, 0usize);
    let mut previous = None;
    for (_, token) in lexer::tokens(source) {
        match token {
            Token::Punct(b'(' | b'[' | b'{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            Token::Punct(b')' | b']' | b'}') => depth = depth.saturating_sub(1),
            Token::Punct(b'?') if !matches!(previous, Some(Token::Punct(b'.' | b'['))) => {
                conditionals += 1;
            }
            _ => {}
        }
        previous = Some(token);
    }
    deepest + conditionals
}

/// Parses on a thread with [`PARSER_STACK`] of stack (see there).
fn parse(source: &str) -> Result<cel::IdedExpr, String> {
    let parse = || {
        cel::parser::Parser::new()
            .enable_optional_syntax(true)
            .parse(source)
            .map_err(|e| e.to_string().lines().next().unwrap_or("").to_string())
    };
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .name("cel-parser".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, parse)
        {
            Ok(parser) => parser
                .join()
                .unwrap_or_else(|_| Err("the CEL parser failed on this expression".to_string())),
            // No thread to be had: parse here (the depth limit keeps that within the stack).
            Err(_) => parse(),
        }
    })
}

/// Rewrites every `x.?field` as `x[?'field']`, which CEL defines the same way on maps (what a
/// Kubernetes object is): cel-rust 0.12 evaluates `.?` on a missing key as an error instead of
/// `optional.none()`, while its `[?key]` is right.
fn optional_select_as_index(expression: &mut cel::IdedExpr) {
    use cel::common::ast::{operators, EntryExpr, Expr};
    match &mut expression.expr {
        Expr::Call(call) => {
            if call.func_name == operators::OPT_SELECT {
                call.func_name = operators::OPT_INDEX.to_string();
            }
            if let Some(target) = &mut call.target {
                optional_select_as_index(target);
            }
            call.args.iter_mut().for_each(optional_select_as_index);
        }
        Expr::Comprehension(comprehension) => {
            for part in [
                &mut comprehension.iter_range,
                &mut comprehension.accu_init,
                &mut comprehension.loop_cond,
                &mut comprehension.loop_step,
                &mut comprehension.result,
            ] {
                optional_select_as_index(part);
            }
        }
        Expr::List(list) => list.elements.iter_mut().for_each(optional_select_as_index),
        Expr::Map(map) => {
            for entry in &mut map.entries {
                if let EntryExpr::MapEntry(e) = &mut entry.expr {
                    optional_select_as_index(&mut e.key);
                    optional_select_as_index(&mut e.value);
                }
            }
        }
        Expr::Struct(structure) => {
            for entry in &mut structure.entries {
                match &mut entry.expr {
                    EntryExpr::StructField(field) => optional_select_as_index(&mut field.value),
                    EntryExpr::MapEntry(e) => {
                        optional_select_as_index(&mut e.key);
                        optional_select_as_index(&mut e.value);
                    }
                }
            }
        }
        Expr::Select(select) => optional_select_as_index(&mut select.operand),
        _ => {}
    }
}

/// `source` with the contents of its string literals blanked, so that what looks like a
/// function inside a string is not taken for one.
fn code_only(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut quote: Option<char> = None;
    let mut previous = '\0';
    for c in source.chars() {
        match quote {
            Some(q) => {
                if c == q && previous != '\\' {
                    quote = None;
                    out.push(c);
                } else {
                    out.push(' ');
                }
            }
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
        previous = c;
    }
    out
}

/// Whether `code` calls or names `marker` where it starts a name (not inside a longer one).
fn names(code: &str, marker: &str) -> bool {
    let starts_name = marker.starts_with(|c: char| c.is_ascii_alphabetic());
    code.match_indices(marker).any(|(at, _)| {
        !starts_name
            || !code[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    })
}

/// The CEL features of Kubernetes by the version that introduced them (k8s.io/apiserver's
/// `cel/environment`): (what the expression writes, what it is, the minor version).
const INTRODUCED: &[(&str, &str, u32)] = &[
    ("authorizer", "the authorizer library", 27),
    (".?", "optional types", 28),
    ("[?", "optional types", 28),
    ("optional.", "optional types", 28),
    ("quantity(", "the quantity library", 28),
    ("isQuantity(", "the quantity library", 28),
    ("sets.", "the sets library", 29),
    (".format(", "string formatting", 29),
    ("strings.quote(", "strings.quote", 29),
    ("ip(", "the IP library", 30),
    ("isIP(", "the IP library", 30),
    ("cidr(", "the CIDR library", 30),
    ("isCIDR(", "the CIDR library", 30),
    ("format.", "the format library", 31),
    ("semver(", "the semver library", 33),
    ("isSemver(", "the semver library", 33),
    ("lists.range(", "lists version 3", 34),
    (".distinct(", "lists version 3", 34),
    (".flatten(", "lists version 3", 34),
    (".reverse(", "lists version 3", 34),
    (".slice(", "lists version 3", 34),
    (".sortBy(", "lists version 3", 34),
    (".sort(", "lists version 3", 34),
    (".first(", "lists version 3", 34),
    (".last(", "lists version 3", 34),
];

/// What Palisade's CEL engine offers that no Kubernetes version does.
const NOT_KUBERNETES: &[(&str, &str)] = &[
    ("math.", "the math library"),
    ("base64.", "the encoders library"),
    ("jsonpatch.", "JSON patch functions"),
];

/// Why `source` does not compile in Kubernetes 1.`minor`'s CEL: a library that came later, or
/// one Kubernetes does not have.
pub fn unavailable_in(source: &str, minor: u32) -> Option<String> {
    let code = code_only(source);
    if let Some((_, what)) = NOT_KUBERNETES.iter().find(|(m, _)| names(&code, m)) {
        return Some(format!(
            "it uses {what}, which Kubernetes' CEL does not have"
        ));
    }
    INTRODUCED
        .iter()
        .filter(|(m, _, since)| *since > minor && names(&code, m))
        .max_by_key(|(_, _, since)| *since)
        .map(|(marker, what, since)| {
            format!(
                "it uses {what} (`{}`), which Kubernetes has from 1.{since}, not in 1.{minor}",
                marker.trim_end_matches('(')
            )
        })
}

impl Expression {
    /// Compiles `source` as the API server of Kubernetes 1.`minor` would: what its CEL does
    /// not have yet does not compile.
    pub fn compile_for(source: &str, minor: Option<u32>) -> Result<Expression, CompileError> {
        if let Some(why) = minor.and_then(|minor| unavailable_in(source, minor)) {
            return Err(CompileError { message: why });
        }
        Self::compile(source)
    }

    pub fn compile(source: &str) -> Result<Expression, CompileError> {
        if source.len() > MAX_EXPRESSION {
            return Err(CompileError {
                message: format!("expression longer than {MAX_EXPRESSION} characters"),
            });
        }
        let depth = nesting(source);
        if depth > MAX_NESTING {
            return Err(CompileError {
                message: format!(
                    "comprehensions nested {depth} deep (more than {MAX_NESTING}): its cost is unbounded"
                ),
            });
        }
        let nested = syntax_depth(source);
        if nested > MAX_DEPTH {
            return Err(CompileError {
                message: format!(
                    "nested {nested} levels deep (brackets and conditionals; at most {MAX_DEPTH})"
                ),
            });
        }
        // Kubernetes compiles with CEL's optional types (`.?field`, `[?key]`, `orValue`).
        let mut program = parse(source).map_err(|message| CompileError { message })?;
        optional_select_as_index(&mut program);
        Ok(Expression {
            source: source.to_string(),
            program,
            authorizer: source.contains("authorizer"),
            depth,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates against `inputs` (for one expression; [`with_inputs`] evaluates many
    /// against the same inputs without converting them again).
    pub fn evaluate(&self, inputs: &Inputs) -> Result<Json, EvalError> {
        with_inputs(inputs, |scope| scope.evaluate(self))
    }
}

thread_local! {
    /// The functions and macros, registered once per thread: registering Kubernetes'
    /// libraries costs more than most evaluations.
    static BASE: cel::Context<'static> = {
        let mut context = cel::Context::default();
        kube_cel::register_all(&mut context);
        context
    };
}

/// The inputs of one admission decision, converted once, for the expressions evaluated
/// against them.
pub struct Scope<'p> {
    context: cel::Context<'p>,
    /// The longest list any input holds, for the cost estimate.
    longest_list: usize,
}

impl Scope<'_> {
    pub fn evaluate(&self, expression: &Expression) -> Result<Json, EvalError> {
        if expression.authorizer {
            return Err(EvalError {
                message:
                    "`authorizer` asks the cluster's authorizer, which cannot be answered offline"
                        .into(),
            });
        }
        if expression.depth > 0 {
            let longest = u64::try_from(self.longest_list).unwrap_or(u64::MAX);
            let estimate =
                (0..expression.depth).fold(1u64, |cost, _| cost.saturating_mul(longest.max(1)));
            if estimate > MAX_COST {
                return Err(EvalError {
                    message: format!(
                        "its comprehensions over lists of up to {longest} items could take {estimate} steps, past the API server's per-call cost limit ({MAX_COST})"
                    ),
                });
            }
        }
        let value =
            cel::Value::resolve(&expression.program, &self.context).map_err(|e| EvalError {
                message: e.to_string(),
            })?;
        to_json(&value)
    }

    /// Replaces what `variables` holds.
    pub fn set_variables(&mut self, variables: &Json) -> Result<(), EvalError> {
        self.set("variables", variables)
    }

    /// Replaces one of the inputs with a value converted beforehand (a parameter object
    /// shared by every object a binding judges: converting it is what costs).
    pub fn set_value(&mut self, name: &str, value: &Value) {
        self.longest_list = self.longest_list.max(value.longest_list);
        self.context
            .add_variable_from_value(name, value.value.clone());
    }

    /// Replaces one of the inputs (`params` for the next binding, say).
    pub fn set(&mut self, name: &str, value: &Json) -> Result<(), EvalError> {
        self.longest_list = self.longest_list.max(longest_json_list(value));
        self.context
            .add_variable(name, value.clone())
            .map_err(|e| EvalError {
                message: e.to_string(),
            })
    }
}

/// The longest list in `value`.
fn longest_json_list(value: &Json) -> usize {
    match value {
        Json::Array(items) => items
            .iter()
            .map(longest_json_list)
            .max()
            .unwrap_or(0)
            .max(items.len()),
        Json::Object(map) => map.values().map(longest_json_list).max().unwrap_or(0),
        _ => 0,
    }
}

/// Runs `f` with a scope holding `inputs`.
pub fn with_inputs<R>(inputs: &Inputs, f: impl FnOnce(&mut Scope<'_>) -> R) -> R {
    BASE.with(|base| {
        let mut context = base.new_inner_scope();
        let mut longest = 0;
        for (name, value) in [
            ("object", &inputs.object),
            ("oldObject", &inputs.old_object),
            ("params", &inputs.params),
            ("namespaceObject", &inputs.namespace_object),
            ("request", &inputs.request),
            ("variables", &inputs.variables),
        ] {
            longest = longest.max(longest_json_list(value));
            // Values built from JSON always convert.
            let _ = context.add_variable(name, value.clone());
        }
        f(&mut Scope {
            context,
            longest_list: longest,
        })
    })
}

/// A CEL value as JSON (what a validation's result or a message expression's text is read as).
fn to_json(value: &cel::Value) -> Result<Json, EvalError> {
    use cel::objects::Key;
    Ok(match value {
        cel::Value::Null => Json::Null,
        cel::Value::Bool(b) => Json::Bool(*b),
        cel::Value::Int(i) => Json::from(*i),
        cel::Value::UInt(u) => Json::from(*u),
        cel::Value::Float(f) => Json::from(*f),
        cel::Value::String(s) => Json::String(s.to_string()),
        cel::Value::List(items) => {
            Json::Array(items.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        cel::Value::Map(map) => Json::Object(
            map.map
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        Key::String(s) => s.to_string(),
                        Key::Int(i) => i.to_string(),
                        Key::Uint(u) => u.to_string(),
                        Key::Bool(b) => b.to_string(),
                    };
                    Ok((key, to_json(v)?))
                })
                .collect::<Result<_, EvalError>>()?,
        ),
        other => {
            return Err(EvalError {
                message: format!("a value of type {:?} has no JSON form", other.type_of()),
            })
        }
    })
}

/// A JSON value converted for CEL once; cloning it is cheap (its maps and lists are shared).
/// It knows the longest list it holds, for the cost estimate.
#[derive(Clone, Debug)]
pub struct Value {
    value: cel::Value,
    longest_list: usize,
}

impl Value {
    fn scalar(value: cel::Value) -> Value {
        Value {
            value,
            longest_list: 0,
        }
    }

    pub fn from_json(json: &Json) -> Result<Value, EvalError> {
        let value = cel::to_value(json).map_err(|e| EvalError {
            message: e.to_string(),
        })?;
        Ok(Value {
            value,
            longest_list: longest_json_list(json),
        })
    }

    pub fn null() -> Value {
        Value::scalar(cel::Value::Null)
    }

    pub fn bool(value: bool) -> Value {
        Value::scalar(cel::Value::Bool(value))
    }

    pub fn int(value: i64) -> Value {
        Value::scalar(cel::Value::Int(value))
    }

    /// A float; not a number, or an infinite one, is null (as it is in JSON).
    pub fn float(value: f64) -> Value {
        if value.is_finite() {
            Value::scalar(cel::Value::Float(value))
        } else {
            Value::null()
        }
    }

    pub fn string(value: &str) -> Value {
        Value::scalar(cel::Value::String(std::sync::Arc::new(value.to_string())))
    }

    pub fn list(items: impl Iterator<Item = Value>) -> Value {
        let mut longest = 0;
        let items: Vec<cel::Value> = items
            .map(|v| {
                longest = longest.max(v.longest_list);
                v.value
            })
            .collect();
        Value {
            longest_list: longest.max(items.len()),
            value: cel::Value::List(std::sync::Arc::new(items)),
        }
    }

    /// A map; of a repeated key the last value counts, as in JSON.
    pub fn map<'k>(entries: impl Iterator<Item = (&'k str, Value)>) -> Value {
        let mut longest = 0;
        let map: std::collections::HashMap<cel::objects::Key, cel::Value> = entries
            .map(|(key, v)| {
                longest = longest.max(v.longest_list);
                (cel::objects::Key::from(key.to_string()), v.value)
            })
            .collect();
        Value {
            value: cel::Value::Map(cel::objects::Map {
                map: std::sync::Arc::new(map),
            }),
            longest_list: longest,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, cel::Value::Null)
    }
}

/// What an expression sees.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub object: Json,
    pub old_object: Json,
    pub params: Json,
    pub namespace_object: Json,
    pub request: Json,
    /// The policy's variables evaluated so far, by name.
    pub variables: Json,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deep_expressions_are_refused_before_the_parser_and_the_deepest_allowed_parse() {
        // Each shape at the deepest allowed nesting compiles (on the parser's own stack; the
        // test thread's 2 MB held 10 levels of brackets, not 30), one level more is refused.
        type Shape = fn(usize) -> String;
        let shapes: [(&str, Shape); 5] = [
            ("index", |n| format!("x{}1{}", "[".repeat(n), "]".repeat(n))),
            ("parentheses", |n| {
                format!("{}1{}", "(".repeat(n), ")".repeat(n))
            }),
            ("calls", |n| {
                format!("{}[1]{}", "size(".repeat(n - 1), ")".repeat(n - 1))
            }),
            ("maps", |n| {
                format!("{}1{}", "{1: ".repeat(n), "}".repeat(n))
            }),
            ("conditionals", |n| format!("{}1", "true ? 1 : ".repeat(n))),
        ];
        for (what, shape) in shapes {
            let deepest = shape(MAX_DEPTH);
            assert!(
                Expression::compile(&deepest).is_ok(),
                "{what} at {MAX_DEPTH}"
            );
            let refused = Expression::compile(&shape(MAX_DEPTH + 1)).map(|_| ());
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|e| e.message.contains("levels deep")),
                "{what}: {refused:?}"
            );
        }
        // What the fuzzer found: unbalanced brackets past the parser's own limit (an arithmetic
        // overflow inside cel 0.12, a panic where overflow is checked).
        let found = format!("ixms{}??.?.", "[".repeat(100));
        assert!(Expression::compile(&found).is_err());
        // What the fuzzer found next: text the old count took for a string (it knew neither
        // `'\\'`, raw strings, triple quotes holding a quote, bad escapes nor comments) hid
        // brackets from it, and the parser went past its own limit (cel-rust#305: the same
        // overflow, on error recovery).
        let deep = format!(
            "{}?[{}{}l\u{0}?(-",
            "{".repeat(63),
            "(".repeat(11),
            "{".repeat(26)
        );
        for hiding in [r"'\\' + ", r"r'\' + ", "'''it's''' + ", r"'\q", "1 // '\n"] {
            let refused = Expression::compile(&format!(">{hiding}{deep}")).map(|_| ());
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|e| e.message.contains("levels deep")),
                "{hiding:?}: {refused:?}"
            );
        }
        // A comprehension's name may stand apart from its parenthesis.
        let spaced = "[1].all (a, [1].all(b, [1].all (c, [1].exists // d\n(d, true))))";
        assert!(Expression::compile(spaced).is_err_and(|e| e.message.contains("comprehensions")));
        // Optional syntax and quoted text are no nesting.
        let optional = format!("object.?spec.?x[?'a'].orValue('{}')", "[(?".repeat(60));
        assert!(Expression::compile(&optional).is_ok(), "{optional}");
    }

    fn eval(source: &str, object: Json) -> Result<Json, String> {
        let expression = Expression::compile(source).map_err(|e| e.to_string())?;
        let inputs = Inputs {
            object,
            variables: json!({}),
            ..Inputs::default()
        };
        expression.evaluate(&inputs).map_err(|e| e.to_string())
    }

    #[test]
    fn kubernetes_libraries_and_semantics() {
        let pod = json!({"metadata": {"labels": {"team": "shop"}}, "spec": {"replicas": 3,
            "containers": [{"image": "registry.example.com/a:1"}, {"image": "docker.io/b"}]}});
        let cases: &[(&str, Json)] = &[
            ("object.spec.replicas <= 5", json!(true)),
            (
                "object.spec.containers.all(c, c.image.startsWith('registry.example.com/'))",
                json!(false),
            ),
            (
                "object.spec.containers.exists_one(c, c.image.matches('^docker'))",
                json!(true),
            ),
            ("has(object.metadata.labels.team)", json!(true)),
            ("'team' in object.metadata.labels", json!(true)),
            (
                "object.spec.containers.map(c, c.image).filter(i, i.contains('example')).size()",
                json!(1),
            ),
            ("[1, 2, 3].sum()", json!(6)),
            ("'a,b'.split(',')", json!(["a", "b"])),
            ("'Shop'.lowerAscii()", json!("shop")),
            ("url('https://x.example/p').getHost()", json!("x.example")),
            (
                "quantity('1Gi').isGreaterThan(quantity('512Mi'))",
                json!(true),
            ),
            ("string(object.spec.replicas) + 'x'", json!("3x")),
            ("object.?spec.?replicas.orValue(0) > 1", json!(true)),
            ("object.spec.?paused.orValue(false)", json!(false)),
            ("object.metadata.?labels[?'team'].hasValue()", json!(true)),
            ("object.metadata.labels[?'owner'].hasValue()", json!(false)),
        ];
        for (source, expected) in cases {
            assert_eq!(eval(source, pod.clone()).as_ref(), Ok(expected), "{source}");
        }
    }

    #[test]
    fn errors_are_errors() {
        let object = json!({"spec": {}});
        assert!(
            eval("object.spec.replicas == 1", object.clone()).is_err(),
            "missing field without has()"
        );
        assert!(
            eval("9223372036854775807 + 1 > 0", object.clone()).is_err(),
            "int64 overflow"
        );
        assert!(
            eval("'a' + 1 == 'a1'", object.clone()).is_err(),
            "type mismatch"
        );
        assert!(eval(
            "authorizer.group('').resource('pods').check('get').allowed()",
            object.clone()
        )
        .is_err());
        assert!(Expression::compile("object.spec.(").is_err());
        let deep = "[1].all(a, [1].all(b, [1].all(c, [1].all(d, true))))";
        assert!(
            Expression::compile(deep).is_err(),
            "four comprehensions deep"
        );
        assert!(Expression::compile("[1].all(a, [1].all(b, [1].all(c, true)))").is_ok());
        assert!(
            Expression::compile("'all(' == 'x'").is_ok(),
            "inside a string is no macro"
        );
        // By the Kubernetes version that introduced each library.
        let ip = "ip('10.0.0.1').family() == 4";
        assert!(Expression::compile_for(ip, Some(30)).is_ok());
        let refused = Expression::compile_for(ip, Some(29)).expect_err("IP is 1.30");
        assert!(
            refused.message.contains("from 1.30, not in 1.29"),
            "{refused}"
        );
        assert!(Expression::compile_for(
            "quantity('1Gi').isGreaterThan(quantity('1Mi'))",
            Some(27)
        )
        .is_err());
        assert!(Expression::compile_for("object.?spec.orValue(1) == 1", Some(27)).is_err());
        assert!(Expression::compile_for("object.?spec.orValue(1) == 1", Some(28)).is_ok());
        assert!(
            Expression::compile_for("'skip(' + 'ip(' == object.x", Some(26)).is_ok(),
            "inside strings, and inside longer names, no function"
        );
        assert!(Expression::compile_for("object.spec.skip(1)", Some(26)).is_ok());
        assert!(
            Expression::compile_for("math.greatest(1, 2) == 2", Some(34))
                .is_err_and(|e| e.message.contains("does not have"))
        );
        assert!(Expression::compile_for("[3, 1].isSorted() && [1].sum() == 1", Some(26)).is_ok());
        // A runaway comprehension is refused before it starts, not left to run.
        let huge: Vec<Json> = (0..2_000).map(Json::from).collect();
        let runaway = eval(
            "object.items.all(a, object.items.all(b, a + b >= 0))",
            json!({"items": huge}),
        );
        assert!(
            runaway
                .as_ref()
                .is_err_and(|e| e.contains("past the API server's per-call cost limit")),
            "{runaway:?}"
        );
        let small: Vec<Json> = (0..500).map(Json::from).collect();
        assert_eq!(
            eval(
                "object.items.all(a, object.items.all(b, a + b >= 0))",
                json!({"items": small})
            ),
            Ok(json!(true)),
            "250,000 steps are within the limit"
        );
    }
}
