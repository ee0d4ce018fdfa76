//! A small, strict XML reader for WeChat's push bodies: elements, text and
//! CDATA only. DTDs, custom entities and processing instructions other than
//! the declaration are refused, so entity expansion attacks have nothing to
//! expand. Depth and element counts are bounded.

use quick_xml::{events::Event, Reader};

/// How deep elements may nest (WeChat's pushes use 4 levels at most).
const MAX_DEPTH: usize = 16;
/// How many elements one body may hold.
const MAX_ELEMENTS: usize = 4_096;

/// Why a body is not acceptable XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// A `<!DOCTYPE …>` (and with it any `<!ENTITY …>`) was present.
    #[error("XML with a DTD or entity declarations is refused")]
    Dtd,
    /// Not well-formed, not a single root element, too deep or too large,
    /// or an entity other than the five predefined ones.
    #[error("the body is not well-formed XML")]
    Malformed,
}

/// One element: its name, its text (CDATA and text joined) and its children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// The element name.
    pub name: String,
    /// Text and CDATA inside, joined (empty when only children).
    pub text: String,
    /// Child elements, in order.
    pub children: Vec<Node>,
}

impl Node {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`, in order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// Parses `input` into its root element.
pub fn parse(input: &str) -> Result<Node, XmlError> {
    let mut reader = Reader::from_str(input);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut count = 0usize;
    loop {
        let event = reader.read_event().map_err(|_| XmlError::Malformed)?;
        match event {
            // A second root element.
            Event::Start(_) | Event::Empty(_) if root.is_some() => return Err(XmlError::Malformed),
            Event::Start(start) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(XmlError::Malformed);
                }
                stack.push(Node {
                    name: start.name().as_ref().to_string(),
                    ..Node::default()
                });
            }
            Event::Empty(start) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::Malformed);
                }
                let node = Node {
                    name: start.name().as_ref().to_string(),
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::End(_) => {
                let mut node = stack.pop().ok_or(XmlError::Malformed)?;
                if !node.children.is_empty() {
                    // Whitespace between child elements is layout, not text.
                    if node.text.trim().is_empty() {
                        node.text.clear();
                    }
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(text) => match stack.last_mut() {
                Some(node) => node.text.push_str(&text.xml10_content()),
                None if text.trim().is_empty() => {}
                None => return Err(XmlError::Malformed),
            },
            Event::CData(data) => match stack.last_mut() {
                Some(node) => node.text.push_str(&data.xml10_content()),
                None => return Err(XmlError::Malformed),
            },
            Event::GeneralRef(reference) => {
                let node = stack.last_mut().ok_or(XmlError::Malformed)?;
                let ch = match reference.resolve_char_ref() {
                    Ok(Some(ch)) => ch,
                    Ok(None) => match &*reference {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => return Err(XmlError::Malformed),
                    },
                    Err(_) => return Err(XmlError::Malformed),
                };
                node.text.push(ch);
            }
            Event::DocType(_) => return Err(XmlError::Dtd),
            Event::Decl(_) | Event::Comment(_) => {}
            Event::PI(_) => return Err(XmlError::Malformed),
            Event::Eof => break,
        }
    }
    match (root, stack.is_empty()) {
        (Some(root), true) => Ok(root),
        _ => Err(XmlError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cdata_text_entities_and_nesting() {
        let root = parse(
            "<?xml version=\"1.0\"?>\n<xml><A><![CDATA[x]]]]><![CDATA[>y]]></A>\n  <B>1 &lt; 2 &amp;&#x4F60;</B><C><D>d</D><D/></C><E/></xml>\n",
        )
        .unwrap();
        assert_eq!(root.name, "xml");
        assert_eq!(root.text, "");
        assert_eq!(root.text_of("A"), Some("x]]>y"));
        assert_eq!(root.text_of("B"), Some("1 < 2 &你"));
        assert_eq!(root.child("C").unwrap().children_named("D").count(), 2);
        assert_eq!(root.text_of("E"), Some(""));
    }

    #[test]
    fn markup_like_text_in_cdata_is_just_text() {
        // A user may well type this; only real markup is refused.
        let root =
            parse("<xml><Content><![CDATA[<!DOCTYPE html><!ENTITY x>]]></Content></xml>").unwrap();
        assert_eq!(root.text_of("Content"), Some("<!DOCTYPE html><!ENTITY x>"));
    }

    #[test]
    fn refuses_dtds_entities_and_garbage() {
        for dtd in [
            "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><xml>&a;</xml>",
            "<!doctype xml><xml/>",
            "<xml><!ENTITY a \"b\"></xml>",
        ] {
            assert!(
                matches!(parse(dtd), Err(XmlError::Dtd | XmlError::Malformed)),
                "{dtd}"
            );
        }
        assert_eq!(parse("<!doctype xml><xml/>"), Err(XmlError::Dtd));
        assert_eq!(
            parse("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><xml>&a;</xml>"),
            Err(XmlError::Dtd)
        );
        for bad in [
            "",
            "not xml",
            "<xml>",
            "<xml></other>",
            "<xml/><xml/>",
            "<xml>&custom;</xml>",
            "<xml><?php echo 1 ?></xml>",
            "text<xml/>",
            "<xml>&#0;</xml>",
        ] {
            assert_eq!(parse(bad), Err(XmlError::Malformed), "{bad:?}");
        }
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert_eq!(parse(&deep), Err(XmlError::Malformed));
    }
}
