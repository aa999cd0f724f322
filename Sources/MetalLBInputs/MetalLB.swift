import KubeInputs
import PacketCore

/// MetalLB's configuration as custom resources (`metallb.io/v1beta1` and `v1beta2`, MetalLB 0.13 and 0.14):
/// the pools it assigns from, and how it announces them (layer 2, BGP).
public struct MetalLBConfiguration: Sendable, Equatable {
    public var pools: [IPAddressPool] = []
    public var l2Advertisements: [L2Advertisement] = []
    public var bgpPeers: [BGPPeer] = []
    public var bgpAdvertisements: [BGPAdvertisement] = []
    public var communities: [CommunityAliases] = []
    /// Documents of other kinds or API groups (a Namespace, a Secret, BFDProfile, ...): skipped, counted.
    public var skippedDocuments = 0
    /// Empty documents (a lone `---`, a comment-only document).
    public var emptyDocuments = 0

    public init() {}

    /// The pool whose addresses hold `address`, if any.
    public func pool(holding address: IPAddress) -> IPAddressPool? {
        pools.first { $0.addresses.contains { $0.range.contains(address) } }
    }

    /// Reads one YAML file of one or more documents; each may also be a `List` (`kubectl get ... -o yaml`).
    public static func read(file path: String, limits: InputLimits = .standard) throws(KubeInputError) -> Self {
        var configuration = MetalLBConfiguration()
        try configuration.add(InputFile.read(path, limits: limits), file: path, limits: limits)
        return configuration
    }

    public static func parse(
        _ bytes: [UInt8], file: String, limits: InputLimits = .standard
    ) throws(KubeInputError) -> Self {
        var configuration = MetalLBConfiguration()
        try configuration.add(bytes, file: file, limits: limits)
        return configuration
    }

    /// Adds the resources of one more file (MetalLB configurations are often split across files).
    public mutating func add(_ bytes: [UInt8], file: String, limits: InputLimits = .standard) throws(KubeInputError) {
        for (offset, document) in try YAMLInput.documents(bytes, file: file, limits: limits).enumerated() {
            let number = offset + 1
            if document == .null {
                emptyDocuments += 1
                continue
            }
            let (apiVersion, kind) = Fields.kind(of: document)
            if kind == "List" || (kind?.hasSuffix("List") == true && apiVersion?.hasPrefix("metallb.io/") == true) {
                guard case .object(let root) = document, case .array(let items)? = root["items"] else {
                    throw KubeInputError(file: file, problem: "document \(number) is a List without a list of items.")
                }
                for (itemIndex, item) in items.enumerated() {
                    try add(item, file: file, context: "document \(number) items[\(itemIndex)]")
                }
            } else {
                try add(document, file: file, context: "document \(number)")
            }
        }
    }

    static let apiVersions: Set<String> = ["metallb.io/v1beta1", "metallb.io/v1beta2"]

    private mutating func add(_ document: KubeValue, file: String, context: String) throws(KubeInputError) {
        let (apiVersion, kind) = Fields.kind(of: document)
        guard let apiVersion, let kind, Self.apiVersions.contains(apiVersion),
            ["IPAddressPool", "L2Advertisement", "BGPPeer", "BGPAdvertisement", "Community"].contains(kind)
        else {
            skippedDocuments += 1
            return
        }
        let identity = Fields.identity(of: document)
        let named = "\(context) (\(kind) \(identity.namespace ?? "-")/\(identity.name ?? "-"))"
        let fields = try Fields(root: document, file: file, context: named)
        let object = try ObjectName(fields)
        let spec = try fields.object("spec") ?? Fields([:], path: "spec", file: file, context: named)
        switch kind {
        case "IPAddressPool":
            let labels = try fields.object("metadata")?.stringMap("labels") ?? [:]
            pools.append(try IPAddressPool(object, labels: labels, spec))
        case "L2Advertisement": l2Advertisements.append(try L2Advertisement(object, spec))
        case "BGPPeer": bgpPeers.append(try BGPPeer(object, apiVersion: apiVersion, spec))
        case "BGPAdvertisement": bgpAdvertisements.append(try BGPAdvertisement(object, spec))
        default: communities.append(try CommunityAliases(object, spec))
        }
    }
}

/// `metadata.namespace` and `metadata.name` of a resource.
public struct ObjectName: Sendable, Hashable, CustomStringConvertible {
    public var namespace: String
    public var name: String
    public var description: String { "\(namespace)/\(name)" }

    init(_ fields: Fields) throws(KubeInputError) {
        guard let metadata = try fields.object("metadata"), let name = try metadata.string("name"), !name.isEmpty else {
            throw fields.error("metadata.name", "is missing.")
        }
        self.name = name
        // MetalLB's resources live in its own namespace; files kept in git often leave it to kubectl -n.
        namespace = try metadata.string("namespace") ?? "metallb-system"
    }
}

/// One entry of `spec.addresses`: a CIDR or an `a-b` range, as written and as a range.
public struct PoolAddresses: Sendable, Equatable, CustomStringConvertible {
    public var text: String
    public var range: IPRange
    public var description: String { text }
}

public struct IPAddressPool: Sendable, Equatable {
    public var object: ObjectName
    /// `metadata.labels`: what L2Advertisement/BGPAdvertisement `ipAddressPoolSelectors` match.
    public var labels: [String: String]
    public var addresses: [PoolAddresses]
    /// false: only Services that ask for this pool (annotation or loadBalancerIP) get its addresses.
    public var autoAssign: Bool
    /// true: MetalLB never hands out .0 and .255 addresses from this pool.
    public var avoidBuggyIPs: Bool

    init(_ object: ObjectName, labels: [String: String], _ spec: Fields) throws(KubeInputError) {
        self.object = object
        self.labels = labels
        addresses = []
        for (index, text) in try spec.strings("addresses").enumerated() {
            guard let range = IPRange(text) else {
                throw spec.error(
                    "addresses[\(index)]", "is '\(text.prefix(64))', which is neither a CIDR nor an a-b address range.")
            }
            addresses.append(PoolAddresses(text: text, range: range))
        }
        guard !addresses.isEmpty else { throw spec.error("addresses", "is missing or empty.") }
        autoAssign = try spec.bool("autoAssign") ?? true
        avoidBuggyIPs = try spec.bool("avoidBuggyIPs") ?? false
    }
}

/// A Kubernetes label selector (`matchLabels`, `matchExpressions`), as L2Advertisement and BGPPeer/
/// BGPAdvertisement `nodeSelectors` hold them.
public struct LabelSelector: Sendable, Equatable {
    public struct Requirement: Sendable, Equatable {
        public var key: String
        /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
        public var `operator`: String
        public var values: [String]
    }

    public var matchLabels: [String: String]
    public var matchExpressions: [Requirement]

    init(_ fields: Fields) throws(KubeInputError) {
        matchLabels = try fields.stringMap("matchLabels")
        matchExpressions = []
        for expression in try fields.objects("matchExpressions") {
            guard let key = try expression.string("key") else { throw expression.error("key", "is missing.") }
            guard let op = try expression.string("operator") else {
                throw expression.error("operator", "is missing.")
            }
            matchExpressions.append(Requirement(key: key, operator: op, values: try expression.strings("values")))
        }
    }

    /// Kubernetes semantics: every matchLabels pair and every requirement must hold; an empty selector
    /// matches everything. `In` needs the key with one of the values, `NotIn` the key absent or with none of
    /// them, `Exists`/`DoesNotExist` the key's presence; an unknown operator matches nothing (fail closed).
    public func matches(_ labels: [String: String]) -> Bool {
        for (key, value) in matchLabels where labels[key] != value { return false }
        for requirement in matchExpressions {
            let value = labels[requirement.key]
            switch requirement.operator {
            case "In":
                guard let value, requirement.values.contains(value) else { return false }
            case "NotIn":
                if let value, requirement.values.contains(value) { return false }
            case "Exists":
                if value == nil { return false }
            case "DoesNotExist":
                if value != nil { return false }
            default:
                return false
            }
        }
        return true
    }

    /// MetalLB's reading of a selector list: empty selects everything, otherwise any one selector matching.
    public static func anyMatches(_ selectors: [LabelSelector], _ labels: [String: String]) -> Bool {
        selectors.isEmpty || selectors.contains { $0.matches(labels) }
    }

    static func list(_ fields: Fields, _ key: String) throws(KubeInputError) -> [LabelSelector] {
        var selectors: [LabelSelector] = []
        for selector in try fields.objects(key) { selectors.append(try LabelSelector(selector)) }
        return selectors
    }
}

public struct L2Advertisement: Sendable, Equatable {
    public var object: ObjectName
    /// Pools announced by name; empty together with no selectors means every pool.
    public var ipAddressPools: [String]
    public var ipAddressPoolSelectors: [LabelSelector]
    /// Interfaces to announce from; empty means all.
    public var interfaces: [String]
    /// Nodes allowed to announce; empty means all.
    public var nodeSelectors: [LabelSelector]

    init(_ object: ObjectName, _ spec: Fields) throws(KubeInputError) {
        self.object = object
        ipAddressPools = try spec.strings("ipAddressPools")
        ipAddressPoolSelectors = try LabelSelector.list(spec, "ipAddressPoolSelectors")
        interfaces = try spec.strings("interfaces")
        nodeSelectors = try LabelSelector.list(spec, "nodeSelectors")
    }
}

public struct BGPPeer: Sendable, Equatable {
    public enum Authentication: Sendable, Equatable, CustomStringConvertible {
        case none
        /// `spec.password`, in clear in the resource (TCP MD5).
        case password(String)
        /// `spec.passwordSecret.name` (v1beta2): a `kubernetes.io/basic-auth` Secret holding it.
        case secret(name: String)

        /// Never prints the password itself.
        public var description: String {
            switch self {
            case .none: "none"
            case .password: "password (inline)"
            case .secret(let name): "password from Secret \(name)"
            }
        }
    }

    public var object: ObjectName
    public var apiVersion: String
    public var peerAddress: IPAddress
    public var peerASN: UInt32
    public var myASN: UInt32
    public var peerPort: UInt16
    /// `spec.holdTime` as written (a Go duration such as `90s` or `1m30s`) and in seconds.
    public var holdTime: String?
    public var holdTimeSeconds: Int?
    public var sourceAddress: IPAddress?
    public var authentication: Authentication
    public var ebgpMultiHop: Bool
    public var nodeSelectors: [LabelSelector]
    public var isEBGP: Bool { peerASN != myASN }

    init(_ object: ObjectName, apiVersion: String, _ spec: Fields) throws(KubeInputError) {
        self.object = object
        self.apiVersion = apiVersion
        guard let address = try spec.string("peerAddress") else { throw spec.error("peerAddress", "is missing.") }
        peerAddress = try spec.address("peerAddress", address)
        let asRange = 0...Int(UInt32.max)
        guard let peer = try spec.integer("peerASN", in: asRange) else { throw spec.error("peerASN", "is missing.") }
        guard let mine = try spec.integer("myASN", in: asRange) else { throw spec.error("myASN", "is missing.") }
        peerASN = UInt32(peer)
        myASN = UInt32(mine)
        peerPort = UInt16(try spec.integer("peerPort", in: 1...65535) ?? 179)
        holdTime = try spec.string("holdTime")
        if let holdTime {
            guard let seconds = Self.seconds(inGoDuration: holdTime) else {
                throw spec.error("holdTime", "is '\(holdTime.prefix(32))', which is not a duration such as 90s.")
            }
            holdTimeSeconds = seconds
        }
        sourceAddress = try spec.string("sourceAddress").map { text throws(KubeInputError) in
            try spec.address("sourceAddress", text)
        }
        if let name = try spec.object("passwordSecret")?.string("name") {
            authentication = .secret(name: name)
        } else if let password = try spec.string("password"), !password.isEmpty {
            authentication = .password(password)
        } else {
            authentication = .none
        }
        ebgpMultiHop = try spec.bool("ebgpMultiHop") ?? false
        nodeSelectors = try LabelSelector.list(spec, "nodeSelectors")
    }

    /// Whole seconds in a Go duration made of h, m and s parts (`90s`, `1m30s`, `3m`); nil otherwise.
    static func seconds(inGoDuration text: String) -> Int? {
        var total = 0
        var digits = 0
        var sawDigit = false
        guard !text.isEmpty, text.count <= 32 else { return nil }
        for character in text {
            if let digit = character.wholeNumberValue, character.isASCII {
                digits = digits * 10 + digit
                sawDigit = true
                continue
            }
            guard sawDigit else { return nil }
            switch character {
            case "h": total += digits * 3600
            case "m": total += digits * 60
            case "s": total += digits
            default: return nil
            }
            digits = 0
            sawDigit = false
        }
        return sawDigit ? nil : total
    }
}

public struct BGPAdvertisement: Sendable, Equatable {
    public var object: ObjectName
    public var ipAddressPools: [String]
    public var ipAddressPoolSelectors: [LabelSelector]
    /// Prefix length announced for IPv4 addresses of the pools (default 32: one route per IP).
    public var aggregationLength: Int
    public var aggregationLengthV6: Int
    /// LOCAL_PREF (iBGP only).
    public var localPref: UInt32?
    /// As written: `65535:65282`, `large:64512:1:2`, or the name of an alias in a Community resource.
    public var communities: [String]
    /// BGPPeer names to announce to; empty means all.
    public var peers: [String]
    public var nodeSelectors: [LabelSelector]

    init(_ object: ObjectName, _ spec: Fields) throws(KubeInputError) {
        self.object = object
        ipAddressPools = try spec.strings("ipAddressPools")
        ipAddressPoolSelectors = try LabelSelector.list(spec, "ipAddressPoolSelectors")
        aggregationLength = try spec.integer("aggregationLength", in: 0...32) ?? 32
        aggregationLengthV6 = try spec.integer("aggregationLengthV6", in: 0...128) ?? 128
        localPref = try spec.integer("localPref", in: 0...Int(UInt32.max)).map(UInt32.init)
        communities = try spec.strings("communities")
        for (index, community) in communities.enumerated() where community.contains(":") {
            guard CommunityAliases.isCommunityValue(community) else {
                throw spec.error(
                    "communities[\(index)]",
                    "is '\(community.prefix(64))', which is neither NUM:NUM, large:NUM:NUM:NUM nor an alias name.")
            }
        }
        peers = try spec.strings("peers")
        nodeSelectors = try LabelSelector.list(spec, "nodeSelectors")
    }

    /// The community values, with alias names replaced by their values from `aliases`; unknown names stay.
    public func resolvedCommunities(using aliases: [CommunityAliases]) -> [String] {
        communities.map { community in
            for resource in aliases {
                if let alias = resource.aliases.first(where: { $0.name == community }) { return alias.value }
            }
            return community
        }
    }
}

/// A Community resource: names for community values that BGPAdvertisements use.
public struct CommunityAliases: Sendable, Equatable {
    public struct Alias: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public var object: ObjectName
    public var aliases: [Alias]

    init(_ object: ObjectName, _ spec: Fields) throws(KubeInputError) {
        self.object = object
        aliases = []
        for entry in try spec.objects("communities") {
            guard let name = try entry.string("name") else { throw entry.error("name", "is missing.") }
            guard let value = try entry.string("value") else { throw entry.error("value", "is missing.") }
            guard Self.isCommunityValue(value) else {
                throw entry.error("value", "is '\(value.prefix(64))', which is neither NUM:NUM nor large:NUM:NUM:NUM.")
            }
            aliases.append(Alias(name: name, value: value))
        }
    }

    /// `A:B` with 16-bit parts (RFC 1997) or `large:A:B:C` with 32-bit parts (RFC 8092).
    static func isCommunityValue(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        func fits(_ part: Substring, _ maximum: UInt64) -> Bool {
            guard !part.isEmpty, part.count <= 10, part.allSatisfy(\.isASCII), let value = UInt64(part) else {
                return false
            }
            return value <= maximum
        }
        if parts.count == 2 { return parts.allSatisfy { fits($0, 0xFFFF) } }
        if parts.count == 4, parts[0] == "large" { return parts.dropFirst().allSatisfy { fits($0, 0xFFFF_FFFF) } }
        return false
    }
}
