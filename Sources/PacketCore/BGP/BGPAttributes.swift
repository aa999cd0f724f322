/// The path attributes of one UPDATE (or MRT RIB entry), decoded: what a renderer or a verifier reads.
/// Decoding is on demand (this allocates for AS paths and community lists), and follows RFC 7606: a
/// malformed attribute is recorded in `problems` with its outcome, and decoding goes on.
public struct BGPAttributes: Sendable, Hashable {
    public var origin: BGPOrigin?
    /// AS_PATH as sent, in the AS size of the session.
    public var asPath: BGPASPath?
    public var as4Path: BGPASPath?
    public var nextHop: IPv4Address?
    public var multiExitDisc: UInt32?
    public var localPref: UInt32?
    public var atomicAggregate = false
    public var aggregator: BGPAggregator?
    public var as4Aggregator: BGPAggregator?
    public var communities: [BGPCommunity] = []
    public var extendedCommunities: [BGPExtendedCommunity] = []
    public var largeCommunities: [BGPLargeCommunity] = []
    public var originatorID: IPv4Address?
    public var clusterList: [IPv4Address] = []
    public var mpReach: BGPMPReach?
    public var mpUnreach: BGPMPUnreach?
    /// RFC 7311: the accumulated IGP metric TLV.
    public var aigp: UInt64?
    /// RFC 9234: Only to Customer.
    public var onlyToCustomer: UInt32?
    /// Every attribute in wire order (types, flags, ranges), including the ones decoded above.
    public var all: [BGPPathAttribute] = []
    /// Malformed attributes and what RFC 7606 says to do about each.
    public var problems: [BGPAttributeProblem] = []
    /// The AS number size used for AS_PATH and AGGREGATOR (2 or 4).
    public var asSize: Int
    /// True when `asSize` was guessed from the AS_PATH bytes because the session's OPENs were not seen.
    public var asSizeGuessed = false

    /// Decode the attributes field `cursor` covers. `asSize` is the session's (2 or 4), or nil to guess
    /// it from AS_PATH (labelled through `asSizeGuessed`). `abbreviatedMPReach` is set for MRT RIB entries
    /// (RFC 6396 section 4.3.4), whose MP_REACH_NLRI holds only the next hop.
    public init(parsing cursor: Cursor, asSize: Int?, abbreviatedMPReachFamily: BGPAddressFamily? = nil) {
        self.asSize = asSize ?? 4
        // Room for a typical UPDATE's attributes at once: grown one append at a time, `all` was reallocated
        // four times per decode, a twentieth of the run time of a full table (callgrind).
        all.reserveCapacity(8)
        var iterator = BGPAttributeIterator(cursor)
        // The attribute types seen, one bit each: a Set was a twentieth of the run time of a full table
        // (decoded once per distinct path, a quarter million of them).
        var seen: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        func firstSight(_ type: UInt8) -> Bool {
            let bit: UInt64 = 1 << UInt64(type & 63)
            switch type >> 6 {
            case 0: defer { seen.0 |= bit }; return seen.0 & bit == 0
            case 1: defer { seen.1 |= bit }; return seen.1 & bit == 0
            case 2: defer { seen.2 |= bit }; return seen.2 & bit == 0
            default: defer { seen.3 |= bit }; return seen.3 & bit == 0
            }
        }
        while true {
            let attribute: BGPPathAttribute
            do throws(ParseError) {
                guard let next = try iterator.next() else { break }
                attribute = next
            } catch {
                problems.append(BGPAttributeProblem(error, in: nil, outcome: .treatAsWithdraw))
                break
            }
            all.append(attribute)
            if !firstSight(attribute.type.rawValue) {
                // RFC 7606 section 3 (g): keep the first copy; a repeated MP attribute resets the session.
                let outcome: BGPErrorOutcome =
                    attribute.type == .mpReachNLRI || attribute.type == .mpUnreachNLRI ? .sessionReset : .attributeDiscard
                problems.append(BGPAttributeProblem(
                    type: attribute.type, offset: attribute.offset, reason: "repeated attribute", outcome: outcome))
                continue
            }
            do throws(ParseError) {
                guard var value = try? cursor.window(attribute.value) else { continue }
                try decode(attribute, &value, guessing: asSize == nil, abbreviated: abbreviatedMPReachFamily)
            } catch {
                problems.append(BGPAttributeProblem(error, in: attribute.type, outcome: attribute.type.malformedOutcome))
            }
        }
    }

    private mutating func decode(
        _ attribute: BGPPathAttribute, _ value: inout Cursor, guessing: Bool, abbreviated: BGPAddressFamily?
    ) throws(ParseError) {
        func exact(_ count: Int) throws(ParseError) {
            guard value.remaining == count else { throw value.error(.malformed, "attribute has the wrong length") }
        }
        switch attribute.type.rawValue {
        case 1:
            try exact(1)
            origin = BGPOrigin(rawValue: try value.readU8())
            guard origin?.rawValue ?? 0 <= 2 else { throw value.error(.malformed, "undefined ORIGIN value") }
        case 2:
            if guessing {
                // The fallback when no OPEN was seen: the size that parses the whole path exactly; when both
                // do (rare), 4 bytes, which every modern speaker negotiates.
                let four = BGPASPath.parsesExactly(value, asSize: 4)
                asSize = four || !BGPASPath.parsesExactly(value, asSize: 2) ? 4 : 2
                asSizeGuessed = true
            }
            asPath = try BGPASPath(parsing: &value, asSize: asSize)
        case 3:
            try exact(4)
            nextHop = try value.readIPv4()
        case 4:
            try exact(4)
            multiExitDisc = try value.readU32()
        case 5:
            try exact(4)
            localPref = try value.readU32()
        case 6:
            try exact(0)
            atomicAggregate = true
        case 7:
            // The length tells the size apart even when the session's is unknown.
            aggregator = try BGPAggregator(parsing: &value, asSize: guessing ? value.remaining - 4 : asSize)
        case 8:
            communities = try BGPCommunity.parseList(&value)
        case 9:
            try exact(4)
            originatorID = try value.readIPv4()
        case 10:
            guard value.remaining % 4 == 0 else { throw value.error(.malformed, "CLUSTER_LIST length is not a multiple of 4") }
            while !value.isEmpty { clusterList.append(try value.readIPv4()) }
        case 14:
            if let abbreviated {
                mpReach = try BGPMPReach(parsingAbbreviated: &value, family: abbreviated)
            } else {
                mpReach = try BGPMPReach(parsing: &value)
            }
        case 15:
            mpUnreach = try BGPMPUnreach(parsing: &value)
        case 16:
            extendedCommunities = try BGPExtendedCommunity.parseList(&value)
        case 17:
            as4Path = try BGPASPath(parsing: &value, asSize: 4)
        case 18:
            as4Aggregator = try BGPAggregator(parsing: &value, asSize: 4)
        case 26:
            // RFC 7311 section 3: TLVs; type 1 is the AIGP metric (length 11: type, length, 8-byte value).
            while !value.isEmpty {
                let type = try value.readU8()
                let length = Int(try value.readU16())
                guard length >= 3 else { throw value.error(.malformed, "AIGP TLV length below 3") }
                var tlv = try value.sub(length - 3)
                if type == 1 {
                    guard tlv.remaining == 8 else { throw tlv.error(.malformed, "AIGP metric is 8 bytes") }
                    aigp = try tlv.readU64()
                }
            }
        case 32:
            largeCommunities = try BGPLargeCommunity.parseList(&value)
        case 35:
            try exact(4)
            onlyToCustomer = try value.readU32()
        default:
            break
        }
    }

    /// The AS path with AS4_PATH merged in when the session uses 2-byte AS numbers (RFC 6793 section 4.2.3);
    /// with 4-byte sessions AS4_PATH must be ignored.
    public var effectiveASPath: BGPASPath? {
        guard let asPath else { return nil }
        if asSize == 2, let as4Path { return asPath.merged(with: as4Path) }
        return asPath
    }

    /// AGGREGATOR, replaced by AS4_AGGREGATOR when it names AS_TRANS (RFC 6793 section 4.2.3).
    public var effectiveAggregator: BGPAggregator? {
        if asSize == 2, let aggregator, aggregator.autonomousSystem == UInt32(BGPOpen.asTrans), let as4Aggregator {
            return as4Aggregator
        }
        return aggregator
    }

    /// The worst outcome among the problems (session reset > treat-as-withdraw > attribute discard).
    public var worstOutcome: BGPErrorOutcome? {
        if problems.contains(where: { $0.outcome == .sessionReset }) { return .sessionReset }
        if problems.contains(where: { $0.outcome == .treatAsWithdraw }) { return .treatAsWithdraw }
        return problems.isEmpty ? nil : .attributeDiscard
    }

    /// RFC 7606 section 3 (d): UPDATEs carrying NLRI need ORIGIN and AS_PATH, and NEXT_HOP for IPv4 NLRI
    /// outside MP_REACH_NLRI. Returns the missing attribute types.
    public func missingMandatory(hasPlainNLRI: Bool, hasMPReachNLRI: Bool) -> [BGPAttributeType] {
        guard hasPlainNLRI || hasMPReachNLRI else { return [] }
        var missing: [BGPAttributeType] = []
        if origin == nil { missing.append(.origin) }
        if asPath == nil { missing.append(.asPath) }
        if hasPlainNLRI, nextHop == nil { missing.append(.nextHop) }
        return missing
    }
}

/// One RFC 7606 finding: which attribute (nil when the attributes field itself is broken), where, why, and
/// what a receiver does about it.
public struct BGPAttributeProblem: Sendable, Hashable, CustomStringConvertible {
    public var type: BGPAttributeType?
    public var offset: Int
    public var reason: String
    public var outcome: BGPErrorOutcome

    public init(type: BGPAttributeType?, offset: Int, reason: String, outcome: BGPErrorOutcome) {
        self.type = type
        self.offset = offset
        self.reason = reason
        self.outcome = outcome
    }

    /// The problem a parse error in `type`'s value (nil: the attributes field itself) makes.
    public init(_ error: ParseError, in type: BGPAttributeType?, outcome: BGPErrorOutcome) {
        self.init(type: type, offset: error.offset, reason: error.reason.description, outcome: outcome)
    }

    public var description: String {
        "\(type.map(\.description) ?? "attributes") at byte \(offset): \(reason) (\(outcome.rawValue))"
    }
}
