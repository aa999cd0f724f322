/// AS_PATH and AS4_PATH (RFC 4271 section 4.3 (b); RFC 5065 confederation segments; RFC 6793 merging).
///
/// ```
/// segment: +-----------------+-----------------+------------------------------+
///          | type (1 octet)  | count (1 octet) | count x AS (2 or 4 octets)   |
///          +-----------------+-----------------+------------------------------+
/// type: 1 AS_SET, 2 AS_SEQUENCE, 3 AS_CONFED_SEQUENCE, 4 AS_CONFED_SET
/// ```
public struct BGPASPath: Sendable, Hashable, CustomStringConvertible {
    public struct Segment: Sendable, Hashable {
        public var type: UInt8
        public var numbers: [UInt32]

        public var isSet: Bool { type == 1 || type == 4 }
        public var isConfederation: Bool { type == 3 || type == 4 }
    }

    public var segments: [Segment]

    public init(segments: [Segment]) { self.segments = segments }

    /// `asSize` is 4 when both OPENs carry the 4-octet AS capability (and always for AS4_PATH), else 2.
    public init(parsing cursor: inout Cursor, asSize: Int) throws(ParseError) {
        segments = []
        while !cursor.isEmpty {
            let start = cursor.offset
            let type = try cursor.readU8()
            let count = Int(try cursor.readU8())
            guard (1...4).contains(type) else {
                throw ParseError(.malformed, at: start, layer: .bgp, "unknown AS_PATH segment type")
            }
            guard count * asSize <= cursor.remaining else {
                throw ParseError(.malformed, at: start, layer: .bgp, "AS_PATH segment overruns the attribute")
            }
            var numbers: [UInt32] = []
            numbers.reserveCapacity(count)
            for _ in 0..<count { numbers.append(asSize == 4 ? try cursor.readU32() : UInt32(try cursor.readU16())) }
            segments.append(Segment(type: type, numbers: numbers))
        }
    }

    /// Whether the value parses exactly as segments of `asSize`-byte numbers: the fallback for captures
    /// without the OPENs decides the AS size with this.
    public static func parsesExactly(_ cursor: Cursor, asSize: Int) -> Bool {
        var probe = cursor
        do throws(ParseError) {
            _ = try BGPASPath(parsing: &probe, asSize: asSize)
            return true
        } catch {
            return false
        }
    }

    /// RFC 4271 section 9.1.2.2 (a): a set counts 1, confederation segments count 0.
    public var length: Int {
        segments.reduce(0) { $0 + ($1.isConfederation ? 0 : $1.isSet ? 1 : $1.numbers.count) }
    }

    /// The origin AS: the last number of the last AS_SEQUENCE segment.
    public var originAS: UInt32? {
        guard let last = segments.last, last.type == 2 else { return nil }
        return last.numbers.last
    }

    public var flattened: [UInt32] { segments.flatMap(\.numbers) }

    /// RFC 6793 section 4.2.3: when a 2-byte speaker's path holds AS_TRANS, the real numbers are in
    /// AS4_PATH. Keep the leading `length - as4.length` ASes of AS_PATH, then append AS4_PATH; if AS4_PATH
    /// is longer than AS_PATH, ignore it.
    public func merged(with as4Path: BGPASPath) -> BGPASPath {
        let surplus = length - as4Path.length
        guard surplus >= 0 else { return self }
        var kept: [Segment] = []
        var remaining = surplus
        for segment in segments where remaining > 0 || segment.isConfederation {
            if segment.isConfederation {
                kept.append(segment)
            } else if segment.isSet {
                kept.append(segment)
                remaining -= 1
            } else {
                let take = min(remaining, segment.numbers.count)
                kept.append(Segment(type: segment.type, numbers: Array(segment.numbers.prefix(take))))
                remaining -= take
            }
        }
        return BGPASPath(segments: kept + as4Path.segments)
    }

    /// `64512 4200000001 {65001,65002} (65010)`, as routers print paths; an empty path is empty text.
    /// Built in one String: a full table has a path per route, and the map/join version was a quarter of
    /// the time it took to print one.
    public var description: String {
        var text = ""
        text.reserveCapacity(segments.reduce(0) { $0 + $1.numbers.count * 11 + 3 })
        for (index, segment) in segments.enumerated() {
            if index > 0 { text += " " }
            let (open, close): (String, String) = switch segment.type {
            case 1: ("{", "}")
            case 3: ("(", ")")
            case 4: ("[", "]")
            default: ("", "")
            }
            text += open
            let separator = segment.isSet ? "," : " "
            for (position, number) in segment.numbers.enumerated() {
                if position > 0 { text += separator }
                text += String(number)
            }
            text += close
        }
        return text
    }
}

/// AGGREGATOR / AS4_AGGREGATOR (RFC 4271 section 5.1.7; RFC 6793).
public struct BGPAggregator: Sendable, Hashable, CustomStringConvertible {
    public var autonomousSystem: UInt32
    public var address: IPv4Address

    public init(autonomousSystem: UInt32, address: IPv4Address) {
        self.autonomousSystem = autonomousSystem
        self.address = address
    }

    public init(parsing cursor: inout Cursor, asSize: Int) throws(ParseError) {
        guard cursor.remaining == asSize + 4 else { throw cursor.error(.malformed, "AGGREGATOR has the wrong length") }
        autonomousSystem = asSize == 4 ? try cursor.readU32() : UInt32(try cursor.readU16())
        address = try cursor.readIPv4()
    }

    public var description: String { "\(autonomousSystem) \(address)" }
}
