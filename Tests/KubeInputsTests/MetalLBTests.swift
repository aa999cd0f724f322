import Foundation
import KubeInputs
import MetalLBInputs
import PacketCore
import TestSupport
import Testing

@Suite("MetalLB custom resources (YAML)")
struct MetalLBTests {
    static let files = ["metallb-config.yaml", "metallb-get-v1beta2.yaml"]

    @Test("Every resource, as the independent oracle (PyYAML) reads it", arguments: files)
    func matchesOracle(_ name: String) throws {
        let configuration = try MetalLBConfiguration.read(file: Inputs.path(name))
        guard let expected = try Inputs.oracleLines("metallb", Inputs.path(name)) else { return }
        // The oracle prints resources in file order per kind; compare as sets of lines plus the count.
        #expect(Canonical.lines(configuration).sorted() == expected.sorted())
        #expect(expected.count > 1)
    }

    @Test("Pools, advertisements, peers and communities of a kept-in-git file")
    func configurationFile() throws {
        let configuration = try MetalLBConfiguration.read(file: Inputs.path("metallb-config.yaml"))
        // Namespace, BFDProfile and Secret are not kinds this reads.
        #expect(configuration.skippedDocuments == 3)
        #expect(configuration.emptyDocuments == 1)
        let dual = try #require(configuration.pools.first { $0.object.name == "public-dual" })
        #expect(dual.avoidBuggyIPs && dual.autoAssign)
        #expect(dual.addresses.map(\.text) == ["198.51.100.16-198.51.100.31", "2001:db8:100::/120"])
        let vip = try #require(IPAddress("2001:db8:100::20"))
        #expect(configuration.pool(holding: vip)?.object.name == "public-dual")
        #expect(configuration.pool(holding: try #require(IPAddress("198.51.100.12")))?.autoAssign == false)

        let l2 = try #require(configuration.l2Advertisements.first)
        #expect(l2.nodeSelectors.first?.matchLabels == ["metallb.io/announce": "true"])
        #expect(l2.nodeSelectors.last?.matchExpressions.first?.operator == "DoesNotExist")

        let peer = try #require(configuration.bgpPeers.first)
        #expect(peer.holdTimeSeconds == 90 && peer.isEBGP)
        #expect(peer.authentication == .password("s3cr'et#not-a-comment"))
        #expect(!"\(peer.authentication)".contains("s3cr"), "the password must never be printed")
        #expect(peer.nodeSelectors.first?.matchExpressions.first?.values == ["worker1", "worker2"])

        let advertisement = try #require(configuration.bgpAdvertisements.first)
        let resolved = advertisement.resolvedCommunities(using: configuration.communities)
        #expect(resolved == ["64512:300", "large:64512:100:1"])
    }

    @Test("kubectl get -o yaml: a List of v1beta2 BGPPeers with managedFields and a block-scalar annotation")
    func listOfPeers() throws {
        let configuration = try MetalLBConfiguration.read(file: Inputs.path("metallb-get-v1beta2.yaml"))
        #expect(configuration.bgpPeers.map(\.object.name) == ["tor-b", "tor-c"])
        let torB = configuration.bgpPeers[0]
        #expect(torB.apiVersion == "metallb.io/v1beta2")
        #expect(torB.myASN == 4_200_000_001 && torB.peerPort == 1790 && torB.ebgpMultiHop)
        #expect(torB.authentication == .secret(name: "tor-b-password"))
        #expect(configuration.bgpPeers[1].sourceAddress == IPAddress("203.0.113.11"))
        #expect(!configuration.bgpPeers[1].isEBGP)
    }

    static func document(_ kind: String, _ spec: String, version: String = "v1beta1") -> String {
        "apiVersion: metallb.io/\(version)\nkind: \(kind)\nmetadata:\n  name: x\n  namespace: m\nspec:\n\(spec)\n"
    }

    static let malformed: [(yaml: String, words: [String])] = [
        (document("IPAddressPool", "  addresses: [198.51.100.300/32]"),
         ["document 2 (IPAddressPool m/x)", "spec.addresses[0]", "neither a CIDR nor an a-b"]),
        (document("IPAddressPool", "  addresses: [198.51.100.9-198.51.100.1]"), ["spec.addresses[0]"]),
        (document("IPAddressPool", "  addresses: []"), ["spec.addresses is missing or empty"]),
        (document("IPAddressPool", "  addresses: [198.51.100.0/24]\n  autoAssign: maybe"),
         ["spec.autoAssign is a string, expected true or false"]),
        (document("BGPPeer", "  peerAddress: 203.0.113.1\n  peerASN: \"64513\"\n  myASN: 64512"),
         ["spec.peerASN is a string", "0 to 4294967295"]),
        (document("BGPPeer", "  peerAddress: 203.0.113.1\n  peerASN: 4294967296\n  myASN: 64512", version: "v1beta2"),
         ["spec.peerASN is 4294967296"]),
        (document("BGPPeer", "  peerAddress: tor.example\n  peerASN: 1\n  myASN: 2"),
         ["spec.peerAddress", "tor.example"]),
        (document("BGPPeer", "  peerAddress: 203.0.113.1\n  peerASN: 1\n  myASN: 2\n  holdTime: soon"),
         ["spec.holdTime", "soon"]),
        (document("BGPPeer", "  peerAddress: 203.0.113.1\n  myASN: 2"), ["spec.peerASN is missing"]),
        (document("BGPAdvertisement", "  aggregationLength: 33"), ["spec.aggregationLength is 33", "0 to 32"]),
        (document("BGPAdvertisement", "  communities: [\"65536:1\"]"), ["spec.communities[0]", "65536:1"]),
        (document("Community", "  communities:\n  - name: a\n    value: 1:2:3"), ["spec.communities[0].value"]),
        (document("L2Advertisement", "  interfaces: eth0"), ["spec.interfaces is a string, expected a list"]),
        (document("L2Advertisement", "  nodeSelectors:\n  - matchExpressions:\n    - key: a"),
         ["spec.nodeSelectors[0].matchExpressions[0].operator is missing"]),
    ]

    @Test("A malformed known kind is an error naming the document index and field", arguments: malformed)
    func malformedKnownKind(_ input: (yaml: String, words: [String])) {
        // A skipped document first, so the index counted is not simply 1.
        let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n" + input.yaml
        expectInputError(file: "bad.yaml", containing: input.words) { () throws(KubeInputError) in
            _ = try MetalLBConfiguration.parse(Inputs.bytes(yaml), file: "bad.yaml")
        }
    }

    @Test("Unknown kinds and API versions are skipped with a count, never an error")
    func unknownKinds() throws {
        let yaml = """
            apiVersion: metallb.io/v1alpha1
            kind: IPAddressPool
            metadata: {name: old}
            spec: {addresses: 3}
            ---
            apiVersion: metallb.io/v1beta1
            kind: ServiceL2Status
            metadata: {name: s}
            ---
            kind: Nonsense
            ---
            just a string
            ---
            apiVersion: metallb.io/v1beta1
            kind: IPAddressPool
            metadata: {name: ok}
            spec: {addresses: [198.51.100.0/28]}
            """
        let configuration = try MetalLBConfiguration.parse(Inputs.bytes(yaml), file: "mixed.yaml")
        #expect(configuration.skippedDocuments == 4)
        #expect(configuration.pools.map(\.object.name) == ["ok"])
    }

    @Test("Label selectors: matchLabels and the four operators, as Kubernetes reads them; pool labels kept")
    func labelSelectors() throws {
        let yaml = """
            apiVersion: metallb.io/v1beta1
            kind: IPAddressPool
            metadata: {name: web, labels: {tier: front, zone: a}}
            spec: {addresses: [198.51.100.0/28]}
            ---
            apiVersion: metallb.io/v1beta1
            kind: L2Advertisement
            metadata: {name: l2}
            spec:
              ipAddressPoolSelectors:
              - matchLabels: {tier: front}
                matchExpressions:
                - {key: zone, operator: In, values: [a, b]}
                - {key: legacy, operator: DoesNotExist}
              - matchExpressions:
                - {key: zone, operator: NotIn, values: [c]}
                - {key: tier, operator: Exists}
              - matchExpressions:
                - {key: zone, operator: Gt, values: ["1"]}
            """
        let configuration = try MetalLBConfiguration.parse(Inputs.bytes(yaml), file: "selectors.yaml")
        let pool = try #require(configuration.pools.first)
        #expect(pool.labels == ["tier": "front", "zone": "a"])
        let selectors = try #require(configuration.l2Advertisements.first).ipAddressPoolSelectors
        #expect(selectors.count == 3)
        #expect(selectors[0].matches(pool.labels))
        #expect(!selectors[0].matches(["tier": "front", "zone": "c"]))
        #expect(!selectors[0].matches(["tier": "front", "zone": "a", "legacy": "yes"]))
        #expect(!selectors[0].matches(["zone": "a"]))
        #expect(selectors[1].matches(["tier": "x"]))
        #expect(!selectors[1].matches(["tier": "x", "zone": "c"]))
        #expect(!selectors[1].matches([:]))
        #expect(!selectors[2].matches(pool.labels), "an operator Kubernetes does not define matches nothing")
        #expect(LabelSelector.anyMatches([], [:]))
        #expect(LabelSelector.anyMatches(selectors, ["tier": "x"]))
        #expect(!LabelSelector.anyMatches([selectors[2]], pool.labels))
    }

    @Test("Every prefix of a real file parses or fails with a KubeInputError, never a crash", arguments: files)
    func truncationSweep(_ name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Inputs.path(name))))
        var outcomes = Set<Bool>()
        for length in stride(from: 0, through: bytes.count, by: 5) {
            do {
                _ = try MetalLBConfiguration.parse(Array(bytes[..<length]), file: "cut.yaml")
                outcomes.insert(true)
            } catch {
                outcomes.insert(false)
                #expect(error.description.hasPrefix("cut.yaml: "))
            }
        }
        #expect(outcomes == [true, false])
    }
}
