import PacketCore

/// Builds one JSON object with its keys in insertion order (stable, greppable JSON Lines output, no
/// Foundation). Field names are the tools' documented schema: add, never rename. A nil value adds nothing.
///
///     var line = JSONLine()
///     line.add("event", "takeover")
///     line.add("ip", packet.arp?.senderIP)      // any CustomStringConvertible: its text
///     line.add("gap_ms", 812.4)
///     StandardStreams.output(line.text + "\n")
public struct JSONLine: Sendable, CustomStringConvertible {
    private var body = ""

    public init() {}

    public var text: String { "{" + body + "}" }
    public var description: String { text }
    public var isEmpty: Bool { body.isEmpty }

    public mutating func add(_ key: String, _ value: JSONValue?) {
        guard let value else { return }
        if !body.isEmpty { body += "," }
        body += JSONValue.quote(key) + ":" + value.encoded
    }

    public mutating func add(_ key: String, _ value: String?) { add(key, value.map(JSONValue.init(_:))) }
    public mutating func add(_ key: String, _ value: Bool?) { add(key, value.map(JSONValue.init(_:))) }
    public mutating func add(_ key: String, _ value: Double?) { add(key, value.map(JSONValue.init(_:))) }
    public mutating func add<T: BinaryInteger>(_ key: String, _ value: T?) {
        guard let value else { return }
        add(key, JSONValue(encoded: String(value)))
    }
    public mutating func add(_ key: String, _ value: JSONLine?) { add(key, value.map(JSONValue.init(_:))) }
    public mutating func add(_ key: String, _ value: Timestamp?) { add(key, value.map(JSONValue.init(_:))) }
    public mutating func add<T: CustomStringConvertible>(_ key: String, _ value: T?) {
        add(key, value.map { JSONValue.init($0) })
    }
    /// Another object's keys after this one's (an object's own keys after the common ones).
    public mutating func append(contentsOf other: JSONLine) {
        guard !other.body.isEmpty else { return }
        if !body.isEmpty { body += "," }
        body += other.body
    }

    /// An array of strings (the elements' text).
    public mutating func add<T: CustomStringConvertible>(_ key: String, list: [T]) {
        add(key, JSONValue(list.map { JSONValue(String(describing: $0)) }))
    }
}

/// A JSON value. Literals and common core types convert implicitly through the `JSONLine` subscript.
public struct JSONValue: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral
{
    public let encoded: String

    public init(encoded: String) { self.encoded = encoded }
    public init(stringLiteral value: String) { encoded = Self.quote(value) }
    public init(integerLiteral value: Int) { encoded = String(value) }
    public init(booleanLiteral value: Bool) { encoded = value ? "true" : "false" }
    public init(floatLiteral value: Double) { self.init(value) }
    public init(arrayLiteral elements: JSONValue...) { self.init(elements) }

    public init(_ value: String) { encoded = Self.quote(value) }
    public init(_ value: some BinaryInteger) { encoded = String(value) }
    public init(_ value: Bool) { encoded = value ? "true" : "false" }
    /// Non-finite numbers have no JSON form: they become null.
    public init(_ value: Double) { encoded = value.isFinite ? String(value) : "null" }
    public init(_ values: [JSONValue]) { encoded = "[" + values.map(\.encoded).joined(separator: ",") + "]" }
    public init(_ object: JSONLine) { encoded = object.text }
    public init(_ value: some CustomStringConvertible) { encoded = Self.quote(value.description) }

    public static let null = JSONValue(encoded: "null")

    /// A JSON string literal: quotes, backslashes and control characters escaped (RFC 8259 section 7).
    public static func quote(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension JSONValue {
    public init(_ timestamp: Timestamp) { encoded = Self.quote(timestamp.iso8601) }
}
