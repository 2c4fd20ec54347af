import KittHTTP

/// HTML that is safe by construction. The only ways to make one are escaped text
/// (`HTML(text:)`, or a `String` inside an `@HTMLBuilder` block), elements whose tag and
/// attribute *names* are static strings and whose attribute *values* are escaped, and
/// `trusted(_:)` for static markup written in this module. No runtime value can become markup.
public struct HTML: Sendable {
    public private(set) var markup: String

    public init() { markup = "" }

    /// `text` escaped for element content and attribute values alike.
    public init(text: String) {
        markup = HTML.escape(text)
    }

    /// Markup written as a literal in the source (an entity, a doctype); never a runtime value.
    public static func trusted(_ literal: StaticString) -> HTML {
        var html = HTML()
        html.markup = literal.description
        return html
    }

    public static func + (lhs: HTML, rhs: HTML) -> HTML {
        var out = lhs
        out.markup += rhs.markup
        return out
    }

    public static func += (lhs: inout HTML, rhs: HTML) { lhs.markup += rhs.markup }

    /// Escapes text for element content and quoted attribute values (one escaper for every page).
    public static func escape(_ text: String) -> String { HTMLEscaping.escape(text) }
}

/// One attribute: a static name and an escaped value (nil: a boolean attribute, name only).
public struct Attribute: Sendable {
    let name: StaticString
    let value: String?

    public init(_ name: StaticString, _ value: String?) {
        self.name = name
        self.value = value
    }

    public static func `class`(_ value: String) -> Attribute { Attribute("class", value) }
    public static func id(_ value: String) -> Attribute { Attribute("id", value) }
    /// Links only ever point inside this server: anything not starting with "/" or "#"
    /// (`javascript:`, `//evil`) becomes "#".
    public static func href(_ path: String) -> Attribute { Attribute("href", safeURL(path)) }
    public static func src(_ path: String) -> Attribute { Attribute("src", safeURL(path)) }
    public static func name(_ value: String) -> Attribute { Attribute("name", value) }
    public static func type(_ value: String) -> Attribute { Attribute("type", value) }
    public static func value(_ value: String) -> Attribute { Attribute("value", value) }
    public static func `for`(_ value: String) -> Attribute { Attribute("for", value) }
    public static func flag(_ name: StaticString) -> Attribute { Attribute(name, nil) }

    static func safeURL(_ path: String) -> String {
        if path.hasPrefix("#") { return path }
        if path.hasPrefix("/") && !path.hasPrefix("//") && !path.hasPrefix("/\\") { return path }
        return "#"
    }
}

@resultBuilder
public enum HTMLBuilder {
    public static func buildExpression(_ html: HTML) -> HTML { html }
    /// A plain string inside a builder block is text: always escaped.
    public static func buildExpression(_ text: String) -> HTML { HTML(text: text) }
    public static func buildBlock(_ parts: HTML...) -> HTML {
        var out = HTML()
        for part in parts { out += part }
        return out
    }
    public static func buildOptional(_ part: HTML?) -> HTML { part ?? HTML() }
    public static func buildEither(first: HTML) -> HTML { first }
    public static func buildEither(second: HTML) -> HTML { second }
    public static func buildArray(_ parts: [HTML]) -> HTML {
        var out = HTML()
        for part in parts { out += part }
        return out
    }
}

/// `<tag attributes>content</tag>`.
public func el(_ tag: StaticString, _ attributes: Attribute..., @HTMLBuilder content: () -> HTML = { HTML() })
    -> HTML
{
    element(tag, attributes, content())
}

/// `<tag attributes>` for void elements (input, meta, link, br).
public func void(_ tag: StaticString, _ attributes: Attribute...) -> HTML {
    var html = HTML.trusted("<")
    html.appendStatic(tag)
    html.appendAttributes(attributes)
    html += HTML.trusted(">")
    return html
}

/// The array form of `el`, for attribute lists built at run time.
public func element(_ tag: StaticString, _ attributes: [Attribute], _ content: HTML) -> HTML {
    var html = HTML.trusted("<")
    html.appendStatic(tag)
    html.appendAttributes(attributes)
    html += HTML.trusted(">")
    html += content
    html += HTML.trusted("</")
    html.appendStatic(tag)
    html += HTML.trusted(">")
    return html
}

extension HTML {
    fileprivate mutating func appendStatic(_ literal: StaticString) {
        markup += literal.description
    }

    fileprivate mutating func appendAttributes(_ attributes: [Attribute]) {
        for attribute in attributes {
            markup += " "
            markup += attribute.name.description
            if let value = attribute.value {
                markup += "=\""
                markup += HTML.escape(value)
                markup += "\""
            }
        }
    }
}
