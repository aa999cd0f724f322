import FoundationEssentials
import PacketCore

/// MAC address to node name, so events and the summary say `node2` rather than a MAC.
///
/// Text form: one `MAC NAME` (or `NAME MAC`) pair per line, `#` starts a comment. JSON form: an object
/// mapping MAC to name (`{"02:76:73:03:00:02": "node1"}`), name to MAC or list of MACs
/// (`{"node1": ["02:..:02", "02:..:12"]}`), or an array of `{"mac": ..., "node": ...}` objects.
public struct NodeMap: Sendable, Hashable {
    public private(set) var names: [MACAddress: String] = [:]

    public init(_ names: [MACAddress: String] = [:]) { self.names = names }

    public func name(of mac: MACAddress) -> String? { names[mac] }

    /// `--nodes`: a MAC seen announcing a node's InternalIP is that node's, unless the map names it already
    /// (a `--node-map` line wins). True when the name was added.
    @discardableResult
    public mutating func learn(_ mac: MACAddress, name: String) -> Bool {
        guard names[mac] == nil, !mac.isZero else { return false }
        names[mac] = name
        return true
    }

    /// Every MAC mapped to `node`.
    public func macs(of node: String) -> [MACAddress] { names.filter { $0.value == node }.map(\.key).sorted() }

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Parse a node map file's contents; `source` names it in errors.
    public init(parsing text: String, source: String) throws(ParseError) {
        self.init()
        let file = PrintableText.escaped(source)
        let trimmed = text.drop { $0.isWhitespace }
        if trimmed.first == "{" || trimmed.first == "[" {
            try self.init(json: text, source: source)
            return
        }
        // "\r\n" is one Character in Swift: split on it too, or a CR LF file reads as one line.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (number, rawLine) in lines.enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "," })
            if words.isEmpty { continue }
            guard words.count == 2 else {
                throw ParseError(
                    description: "\(file) line \(number + 1): expected `MAC NAME`, found \"\(PrintableText.escaped(line))\"")
            }
            if let mac = MACAddress(words[0]) {
                names[mac] = String(words[1])
            } else if let mac = MACAddress(words[1]) {
                names[mac] = String(words[0])
            } else {
                throw ParseError(description: "\(file) line \(number + 1): neither word is a MAC address")
            }
        }
    }

    private init(json text: String, source: String) throws(ParseError) {
        self.init()
        let file = PrintableText.escaped(source)
        let value: Any
        do {
            value = try JSONDocument.value(from: Data(text.utf8))
        } catch {
            throw ParseError(description: "\(file) is not valid JSON (\(PrintableText.escaped("\(error)")))")
        }
        func add(_ mac: String, _ name: String) throws(ParseError) {
            guard let address = MACAddress(mac) else {
                throw ParseError(description: "\(file): \"\(PrintableText.escaped(mac))\" is not a MAC address")
            }
            names[address] = name
        }
        if let object = value as? [String: Any] {
            for (key, entry) in object {
                if MACAddress(key) != nil, let name = entry as? String {
                    try add(key, name)
                } else if let mac = entry as? String {
                    try add(mac, key)
                } else if let macs = entry as? [String] {
                    for mac in macs { try add(mac, key) }
                } else {
                    throw ParseError(
                        description: "\(file): the value for \"\(PrintableText.escaped(key))\" is not a name or MAC list")
                }
            }
        } else if let array = value as? [[String: Any]] {
            for entry in array {
                guard let mac = entry["mac"] as? String, let name = (entry["node"] ?? entry["name"]) as? String else {
                    throw ParseError(description: "\(file): each entry needs \"mac\" and \"node\" strings")
                }
                try add(mac, name)
            }
        } else {
            throw ParseError(description: "\(file): expected a JSON object or array of {mac, node}")
        }
    }

    /// `02:76:73:03:00:03 (node2)` or the bare MAC. The name comes from the operator's file and is escaped
    /// (`PrintableText`): a name holding CR/LF or ESC cannot forge a line or move the cursor.
    public func label(_ mac: MACAddress) -> String {
        names[mac].map { "\(mac) (\(PrintableText.escaped($0)))" } ?? mac.description
    }
}
