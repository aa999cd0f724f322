import Glibc
import Netlink
import PacketCore
import Testing
import ToolSupport

/// The Swift decoder of RTM_NEWADDR (the `addr` listing's hot path) against libnl's parser of the same kernel
/// tables, and the byte formatting behind `addr --json` against glibc's inet_ntop.
@Suite(.serialized)
struct FastPathTests {
    /// Read until libnl's view is the same before and after the Swift decoder's (finite lifetimes tick between
    /// reads), then return both.
    static func stableRead(_ socket: RouteSocket) throws -> (libnl: [Address], swift: [Address]) {
        var last: ([Address], [Address])?
        for _ in 0..<5 {
            let before = try socket.libnlAddresses()
            let decoded = Array(try socket.addresses())
            let after = try socket.libnlAddresses()
            last = (after, decoded)
            if before == after { return (after, decoded) }
        }
        let result = try #require(last)
        return result
    }

    @Test func swiftDecoderAgreesWithLibnlOnVariedAddresses() throws {
        let node = try NodeLab(tag: "d")
        defer { node.tearDown() }
        // More kinds than the node lab has: a label, a broadcast, IPv6 home/mngtmpaddr, a finite IPv4 lifetime.
        try node.lab.ip("addr", "add", "203.0.113.77/24", "brd", "+", "dev", "v0", "label", "v0:vip")
        try node.lab.ip("addr", "add", "203.0.113.78/24", "dev", "v0", "valid_lft", "900", "preferred_lft", "600")
        try node.lab.ip("addr", "add", "fd99:3::1/64", "dev", "v0", "nodad", "home", "mngtmpaddr")
        let namespace = try NetworkNamespace(named: node.name)
        let socket = try namespace.perform { () throws(NetlinkError) in try RouteSocket() }
        let (libnl, swift) = try Self.stableRead(socket)
        #expect(swift == libnl)
        #expect(swift.count == libnl.count)

        // The comparison compared the varied cases (values from the `ip` commands above, not from our output).
        func find(_ text: String) -> Address? { swift.first { $0.local == IPAddress(text) } }
        #expect(find("203.0.113.77")?.label == "v0:vip")
        #expect(find("203.0.113.77")?.broadcast == IPAddress("203.0.113.255"))
        #expect(find("203.0.113.50")?.peer == IPAddress("203.0.113.51"))
        #expect(find("203.0.113.5")?.flags.contains(.secondary) == true)
        #expect(find("203.0.113.9")?.flags.contains(.noPrefixRoute) == true)  // only in the 32-bit IFA_FLAGS
        #expect(find("fd99::2")?.flags.contains(.deprecated) == true)
        #expect(find("fd99:2::1")?.flags.contains(.tentative) == true)
        #expect(find("fd99:3::1")?.flags.names(family: .inet6).contains("mngtmpaddr") == true)
        #expect(find("fd99:3::1")?.flags.names(family: .inet6).contains("home") == true)
        #expect((find("203.0.113.78")?.validLifetime ?? 0) <= 900)
        #expect((find("203.0.113.78")?.preferredLifetime ?? 0) > 500)
        #expect(find("2001:db8::10")?.scope == .global)
    }

    /// An RTM_NEWADDR payload built from linux/if_addr.h: ifaddrmsg {AF_INET, /24, IFA_F_PERMANENT, universe,
    /// index 5}, then IFA_ADDRESS (peer) 203.0.113.51, IFA_LOCAL 203.0.113.50, IFA_LABEL "v0:1", IFA_BROADCAST,
    /// IFA_CACHEINFO {preferred 100, valid 200, ...}, IFA_FLAGS IFA_F_PERMANENT | IFA_F_NOPREFIXROUTE.
    static let message: [UInt8] = {
        var bytes: [UInt8] = [2, 24, 0x80, 0, 5, 0, 0, 0]
        func attribute(_ type: UInt16, _ value: [UInt8]) {
            let length = UInt16(4 + value.count)
            bytes += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(type & 0xFF), UInt8(type >> 8)] + value
            bytes += [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
        }
        func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        attribute(1, [203, 0, 113, 51])
        attribute(2, [203, 0, 113, 50])
        attribute(3, Array("v0:1".utf8) + [0])
        attribute(4, [203, 0, 113, 255])
        attribute(6, le32(100) + le32(200) + le32(7) + le32(8))
        attribute(8, le32(0x80 | 0x200))
        return bytes
    }()

    @Test func decodesAHandBuiltMessage() throws {
        let address = try withCursor(over: Self.message) { (cursor: inout Cursor) throws(ParseError) in
            try Address(parsing: &cursor)
        }
        let decoded = try #require(address)
        #expect(decoded.interfaceIndex == 5)
        #expect(decoded.local == IPAddress("203.0.113.50"))
        #expect(decoded.peer == IPAddress("203.0.113.51"))
        #expect(decoded.prefixLength == 24)
        #expect(decoded.label == "v0:1")
        #expect(decoded.broadcast == IPAddress("203.0.113.255"))
        #expect(decoded.flags.names(family: .inet) == ["permanent", "noprefixroute"])
        #expect(decoded.preferredLifetime == 100 && decoded.validLifetime == 200)
    }

    @Test(arguments: 0..<message.count)
    func everyTruncationIsAnErrorOrAShorterAddress(length: Int) {
        let prefix = Array(Self.message.prefix(length))
        let result = Result { () throws(ParseError) in
            try withCursor(over: prefix) { (cursor: inout Cursor) throws(ParseError) in try Address(parsing: &cursor) }
        }
        switch result {
        case .failure(let error): #expect(error.kind == .truncated || error.kind == .malformed)
        case .success(let address): #expect(address == nil || address?.interfaceIndex == 5)
        }
    }

    // MARK: formatting

    static func inetNtop(_ family: Int32, _ bytes: [UInt8]) -> String {
        var text = [CChar](repeating: 0, count: 64)
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Addresses with every shape of zero runs: none, ties, leading, trailing, all zero, IPv4-mapped.
    static let ipv6Samples: [IPv6Address] = {
        var samples: [IPv6Address] = [
            .unspecified, IPv6Address(high: 0, low: 1), IPv6Address(high: 0, low: 0xFFFF_CB00_7105),
            IPv6Address(groups: [1, 0, 0, 1, 0, 0, 0, 1]), IPv6Address(groups: [1, 0, 1, 0, 1, 0, 1, 0]),
            IPv6Address(groups: [0, 0, 1, 0, 0, 1, 0, 0]), IPv6Address(groups: [0xFE80, 0, 0, 0, 0, 0, 0, 0]),
            IPv6Address(groups: [0x2001, 0xDB8, 0, 0, 0, 0, 0, 0x10]),
            IPv6Address(groups: [0xFFFF, 0xABC, 1, 2, 3, 4, 5, 6]),
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            // Random groups, each zero with probability 1/2, so zero runs of every length and position appear.
            var groups: [UInt16] = []
            for _ in 0..<8 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let mask: UInt16 = state >> 40 & 1 == 0 ? 0xF : 0xFFFF  // short groups too: leading zeros dropped
                groups.append(state >> 63 == 0 ? 0 : UInt16(truncatingIfNeeded: state >> 20) & mask)
            }
            samples.append(IPv6Address(groups: groups))
        }
        return samples
    }()

    @Test func ipv6TextMatchesInetNtopAndTheCore() {
        var mismatches: [String] = []
        for address in Self.ipv6Samples {
            var output = ByteWriter(descriptor: -1)
            output.append(address)
            let ours = String(decoding: output.bytes, as: UTF8.self)
            let bytes = (0..<16).map {
                UInt8(truncatingIfNeeded: ($0 < 8 ? address.high : address.low) >> (56 - 8 * UInt64($0 % 8)))
            }
            // glibc writes IPv4-compatible addresses (::a.b.c.d, a deprecated form) in dotted form; the core does not.
            let compatible = address.high == 0 && address.low >> 32 == 0 && address.low > 0xFFFF
            if ours != address.description || (!compatible && ours != Self.inetNtop(AF_INET6, bytes)) {
                mismatches.append("\(ours) vs \(address.description) / \(Self.inetNtop(AF_INET6, bytes))")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test(arguments: [UInt32(0), 1, 0x0A00_0001, 0xCB00_7163, 0xFFFF_FFFF, 0x7F00_0001, 0x0102_0304])
    func ipv4TextMatchesInetNtop(raw: UInt32) {
        var output = ByteWriter(descriptor: -1)
        output.append(IPv4Address(rawValue: raw))
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: raw >> (24 - 8 * UInt32($0))) }
        #expect(String(decoding: output.bytes, as: UTF8.self) == Self.inetNtop(AF_INET, bytes))
    }

    @Test func numbersAndJSONStrings() {
        var output = ByteWriter(descriptor: -1)
        for value: Int64 in [0, 7, 10, 99, 100, 4_294_967_295, -42, Int64.max, Int64.min] {
            output.append(decimal: value)
            output.append(" ")
        }
        output.append(decimal: UInt32.max)
        #expect(String(decoding: output.bytes, as: UTF8.self)
            == "0 7 10 99 100 4294967295 -42 9223372036854775807 -9223372036854775808 4294967295")
        // RFC 8259 section 7: quote and backslash escaped, control characters as \u00XX.
        var json = ByteWriter(descriptor: -1)
        json.appendJSONString("a\"b\\c\n\u{01}\u{1F}é")
        #expect(String(decoding: json.bytes, as: UTF8.self) == "\"a\\\"b\\\\c\\n\\u0001\\u001fé\"")
    }
}
