import PacketCore

/// Where `--metrics-listen` serves: `ADDR:PORT`, `[IPv6]:PORT`, or `:PORT` for every address. Names are not
/// accepted (the tools never resolve names): give the node's address, or `:PORT` with hostNetwork.
public struct MetricsListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// nil: every address (IPv6 and IPv4).
    public var address: IPAddress?
    public var port: UInt16

    public init(address: IPAddress?, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// nil when `text` is not one of the accepted forms or the port is 0 or above 65535.
    public init?(_ text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
            guard case .v6? = IPAddress(String(host)) else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            // An unbracketed IPv6 address is ambiguous (its last group reads as a port).
            guard !host.contains(":") else { return nil }
        }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), portText.count <= 5,
            let port = UInt16(portText), port > 0
        else { return nil }
        if host.isEmpty {
            address = nil
        } else {
            guard let parsed = IPAddress(String(host)) else { return nil }
            address = parsed
        }
        self.port = port
    }

    public var description: String {
        switch address {
        case nil: ":\(port)"
        case .v6(let v6)?: "[\(v6)]:\(port)"
        case .v4(let v4)?: "\(v4):\(port)"
        }
    }
}
