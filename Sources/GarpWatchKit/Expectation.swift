import PacketCore

/// `--expect IP=MAC|NODE`: an address and the owner it should have.
public struct Expectation: Sendable, Hashable, CustomStringConvertible {
    public var ip: IPAddress
    /// The MAC given, or the node name to look up in the node map.
    public var owner: Owner

    public enum Owner: Sendable, Hashable {
        case mac(MACAddress)
        case node(String)
        /// A LoadBalancer IP of a Service (`--services`): any one owner is right, two at once are not.
        case anyOneOwner(service: String)
    }

    public init(ip: IPAddress, owner: Owner) {
        self.ip = ip
        self.owner = owner
    }

    /// The Service the address belongs to (`--services`), if any.
    public var service: String? {
        if case .anyOneOwner(let service) = owner { return service }
        return nil
    }

    /// Parse `IP=MAC` or `IP=NODE`; nil when the IP is not an address or the owner is empty.
    public init?(_ text: String) {
        guard let equals = text.firstIndex(of: "=") else { return nil }
        guard let ip = IPAddress(text[..<equals]) else { return nil }
        let owner = text[text.index(after: equals)...]
        guard !owner.isEmpty else { return nil }
        self.ip = ip
        self.owner = MACAddress(owner).map(Owner.mac) ?? .node(String(owner))
    }

    public var description: String {
        switch owner {
        case .mac(let mac): "\(ip)=\(mac)"
        case .node(let node): "\(ip)=\(PrintableText.escaped(node))"
        case .anyOneOwner(let service): "\(ip) (one owner, service \(PrintableText.escaped(service)))"
        }
    }

    public func expectedMACs(_ nodes: NodeMap) -> [MACAddress] {
        switch owner {
        case .mac(let mac): [mac]
        case .node(let node): nodes.macs(of: node)
        case .anyOneOwner: []
        }
    }
}

/// The outcome for one expectation, with the exit status it implies.
public struct Verdict: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable {
        /// Announced, and only by the expected owner.
        case ok
        /// At the end of the capture another MAC owns it (it failed over, or the wrong node holds it). A clean
        /// takeover to the expected MAC during the capture is not a failure: the owner at the end decides.
        case wrongOwner = "wrong-owner"
        /// Two or more MACs claimed it at once, interleaving (split-brain).
        case multipleOwners = "multiple-owners"
        /// No frame claimed it.
        case notSeen = "not-seen"

        /// The documented exit status.
        public var exitStatus: Int32 {
            switch self {
            case .ok: 0
            case .wrongOwner: 10
            case .multipleOwners: 11
            case .notSeen: 12
            }
        }

        /// Which outcome decides the exit status when several expectations fail.
        var severity: Int {
            switch self {
            case .ok: 0
            case .notSeen: 1
            case .wrongOwner: 2
            case .multipleOwners: 3
            }
        }
    }

    public var expectation: Expectation
    public var outcome: Outcome
    /// Every MAC that claimed the address in this run.
    public var seen: [MACAddress]
    public var expected: [MACAddress]

    /// Judge one expectation against the bindings of every VLAN path that hold the address.
    /// `probeResponders`: the MACs that answered `--probe` requests for the address (nil if not probed); two
    /// or more of them answering the same broadcast requests are more than one owner.
    public init(_ expectation: Expectation, bindings: [Binding], nodes: NodeMap, probeResponders: [MACAddress]? = nil) {
        self.expectation = expectation
        let expected = expectation.expectedMACs(nodes)
        self.expected = expected
        let matching = bindings.filter { $0.key.ip == expectation.ip }
        var seen: [MACAddress] = []
        for binding in matching {
            for claimant in binding.activeClaimants where !seen.contains(claimant.mac) { seen.append(claimant.mac) }
        }
        for mac in probeResponders ?? [] where !seen.contains(mac) { seen.append(mac) }
        self.seen = seen
        if seen.isEmpty {
            outcome = .notSeen
        } else if matching.contains(where: { $0.conflicts > 0 || $0.conflict != nil })
            || (probeResponders?.count ?? 0) > 1
        {
            outcome = .multipleOwners
        } else if expectation.service == nil,
            matching.contains(where: { $0.frames > 0 && !expected.contains($0.owner) })
                || (probeResponders ?? []).contains(where: { !expected.contains($0) })
        {
            // Without a split-brain, the owner at the end of the capture is the answer: a clean takeover to
            // the expected MAC during the capture is the failover having worked (issue 15 item 6).
            outcome = .wrongOwner
        } else {
            outcome = .ok
        }
    }

    /// The exit status for a set of verdicts: 0 when all are ok, else that of the most serious failure
    /// (multiple owners, then wrong owner, then not seen).
    public static func exitStatus(_ verdicts: [Verdict]) -> Int32 {
        verdicts.max { $0.outcome.severity < $1.outcome.severity }?.outcome.exitStatus ?? 0
    }
}
