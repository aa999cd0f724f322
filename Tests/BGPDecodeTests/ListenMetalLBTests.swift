import BGPDecodeKit
import Foundation
import PacketCore
import TestSupport
import Testing

/// Issue 21: `bgpdecode listen --metallb FILE --nodes FILE [--secrets DIR]` stands in for the router that
/// MetalLB's BGPPeers name, through the real executable on loopback: the listener on 127.0.0.3 (the
/// BGPPeer's peerAddress), a "node" speaker from 127.0.0.1 (its InternalIP).
@Suite("bgpdecode listen --metallb (issue 21)", .serialized)
struct ListenMetalLBTests {
    /// A directory of its own for one test's files; removed by `remove()`.
    struct Files {
        let directory: URL
        init() throws {
            directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("mb-\(getpid())-\(Int.random(in: 0..<1_000_000))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        func write(_ name: String, _ text: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    /// One MetalLB BGPPeer as `kubectl get bgppeers -A -o yaml` prints it, inside a List.
    static func bgpPeer(
        name: String = "router", address: String = "127.0.0.3", port: UInt16, peerASN: UInt32 = 64512,
        myASN: UInt32 = 65001, extra: String = ""
    ) -> String {
        """
          - apiVersion: metallb.io/v1beta2
            kind: BGPPeer
            metadata:
              name: \(name)
              namespace: metallb-system
              resourceVersion: "4711"
            spec:
              myASN: \(myASN)
              peerASN: \(peerASN)
              peerAddress: \(address)
              peerPort: \(port)
              holdTime: 1m30s
        \(extra)
        """
    }

    static func list(_ items: String...) -> String {
        "apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n" + items.joined(separator: "\n")
            + "\n"
    }

    /// `kubectl get nodes -o json` for two nodes: node-a at 127.0.0.1 (and an IPv6 address the IPv4 BGPPeer
    /// must not take), node-b at 192.0.2.12.
    static let nodes = """
        {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [
          {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a", "labels": {"kubernetes.io/os": "linux"}},
           "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                                    {"type": "InternalIP", "address": "fd00::a"},
                                    {"type": "Hostname", "address": "node-a"}]}},
          {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-b"},
           "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.12"}]}}
        ]}
        """

    static func port() -> UInt16 { UInt16(20000 + (getpid() &+ Int32.random(in: 0..<5000)) % 20000) }

    static func run(_ arguments: [String]) throws -> ProcessOutput {
        try ChildProcess.run([try Tool.bgpdecode(), "listen", "--router-id", "203.0.113.254"] + arguments)
    }

    /// The listener from the files, a speaker from 127.0.0.1 with `asn` in its OPEN that announces three
    /// /32s; the NOTIFICATIONs it got and what the listener printed once stopped.
    static func session(_ arguments: [String], port: UInt16, asn: UInt32) throws
        -> (codes: [[UInt8]], types: [UInt8], output: ProcessOutput)
    {
        let process = try RunningProcess(try Tool.bgpdecode(), ["listen", "--router-id", "203.0.113.254"] + arguments)
        defer { if process.process.isRunning { kill(process.process.processIdentifier, SIGKILL) } }
        usleep(1_000_000)  // it binds within milliseconds; a debug build under load, within a second
        let client = try HostilePeerTests.connect(port: port)
        defer { close(client) }
        let open = BGPMessageBuilder.open(asn: asn, holdTime: 30, identifier: IPv4Address(203, 0, 113, 1),
            capabilities: [.multiprotocol(.ipv4Unicast), .fourOctetAS(asn)])
        ListenerLoopbackTests.send(client, open)
        ListenerLoopbackTests.send(client, BGPMessageBuilder.keepalive())
        let attributes: [UInt8] = [0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xFD, 0xE9, 0x40, 3, 4, 127, 0, 0, 1]
        for last in 0..<3 {
            let body: [UInt8] = [0, 0, 0, UInt8(attributes.count)] + attributes + [32, 198, 51, 100, UInt8(last)]
            ListenerLoopbackTests.send(client, [UInt8](repeating: 0xFF, count: 16) + [0, UInt8(19 + body.count), 2] + body)
        }
        usleep(700_000)
        let output = ListenMaximumPrefixesTests.stopAndRead(process)
        let (bytes, _) = ListenerLoopbackTests.drain(client)
        let types = ListenerLoopbackTests.types(bytes)
        return (ListenLimitsTests.notificationCodes(bytes), types, output)
    }

    // (1) The mapping, through the executable.

    @Test func aNodeSpeakingTheBGPPeersMyASNGetsASessionOnThePeerAddress() throws {
        let files = try Files()
        defer { files.remove() }
        let port = Self.port()
        let metallb = try files.write("peers.yaml", Self.list(Self.bgpPeer(port: port)))
        let nodes = try files.write("nodes.json", Self.nodes)
        // No --local-as, no --bind, no --peer: all from the files (127.0.0.3 is this host's, so it is bound).
        let (codes, types, output) = try Self.session(["--metallb", metallb, "--nodes", nodes], port: port, asn: 65001)
        #expect(output.standardError.contains("listening on 127.0.0.3 port \(port) as AS 64512"), "\(output.standardError)")
        #expect(output.standardError.contains("standing in for BGPPeer metallb-system/router"), "\(output.standardError)")
        // node-a's 127.0.0.1 and node-b's 192.0.2.12; not fd00::a (the BGPPeer is IPv4).
        #expect(output.standardError.contains("2 node addresses"), "\(output.standardError)")
        #expect(types.first == 1 && types.contains(4), "no OPEN and KEEPALIVE back: \(types) \(output.standardError)")
        #expect(codes == [[6, 2]], "only the Cease of the stop: \(codes) \(output.standardError)")
        for last in 0..<3 { #expect(output.standardOutput.contains("198.51.100.\(last)/32"), "\(output.standardOutput)") }
    }

    @Test func aNodeWithAnotherASGetsBadPeerAS() throws {
        let files = try Files()
        defer { files.remove() }
        let port = Self.port()
        let metallb = try files.write("peers.yaml", Self.list(Self.bgpPeer(port: port)))
        let nodes = try files.write("nodes.json", Self.nodes)
        let (codes, _, output) = try Self.session(
            ["--metallb", metallb, "--nodes", nodes, "--bind", "127.0.0.3:\(port)"], port: port, asn: 65002)
        #expect(codes == [[2, 2]], "\(codes) \(output.standardError)")
        #expect(!output.standardOutput.contains("198.51.100.0/32"), "\(output.standardOutput)")
    }

    @Test func theCommandLineWinsOverTheFiles() throws {
        let files = try Files()
        defer { files.remove() }
        let port = Self.port()
        // A peerAddress that is not this host's: without --bind it would be every address, port 179.
        let metallb = try files.write("peers.yaml", Self.list(Self.bgpPeer(address: "192.0.2.1", port: 179)))
        let nodes = try files.write("nodes.json", Self.nodes)
        let (codes, types, output) = try Self.session(
            ["--metallb", metallb, "--nodes", nodes, "--bind", "127.0.0.3:\(port)", "--local-as", "64999",
             "--peer", "127.0.0.1", "--peer-as", "65077"], port: port, asn: 65077)
        #expect(output.standardError.contains("listening on 127.0.0.3 port \(port) as AS 64999"), "\(output.standardError)")
        #expect(types.first == 1 && codes == [[6, 2]], "\(types) \(codes) \(output.standardError)")
        #expect(output.standardOutput.contains("198.51.100.1/32"), "\(output.standardOutput)")
    }

    // (2) Errors: one sentence naming the file and what to do, exit 64 (usage) or 1 (the files).

    @Test func disagreeingPeerASNsNeedLocalAS() throws {
        let files = try Files()
        defer { files.remove() }
        let metallb = try files.write("peers.yaml", Self.list(
            Self.bgpPeer(name: "tor-a", port: 179, peerASN: 64512),
            Self.bgpPeer(name: "tor-b", address: "127.0.0.4", port: 179, peerASN: 64513)))
        let nodes = try files.write("nodes.json", Self.nodes)
        let output = try Self.run(["--metallb", metallb, "--nodes", nodes])
        #expect(output.status == 64, "\(output.status) \(output.standardError)")
        #expect(output.standardError.contains(metallb) && output.standardError.contains("--local-as")
            && output.standardError.contains("64513"), "\(output.standardError)")
    }

    @Test func withoutNodesItSaysWhy() throws {
        let files = try Files()
        defer { files.remove() }
        let metallb = try files.write("peers.yaml", Self.list(Self.bgpPeer(port: 179)))
        let output = try Self.run(["--metallb", metallb])
        #expect(output.status == 64, "\(output.status) \(output.standardError)")
        #expect(output.standardError.contains("--nodes") && output.standardError.contains("InternalIP"),
            "\(output.standardError)")
    }

    @Test func aPasswordSecretNeedsSecretsAndItsFile() throws {
        let files = try Files()
        defer { files.remove() }
        let metallb = try files.write("peers.yaml", Self.list(Self.bgpPeer(
            port: 179, extra: "      passwordSecret:\n        name: bgp-auth\n        namespace: metallb-system")))
        let nodes = try files.write("nodes.json", Self.nodes)
        let withoutDirectory = try Self.run(["--metallb", metallb, "--nodes", nodes])
        #expect(withoutDirectory.status == 64, "\(withoutDirectory.status) \(withoutDirectory.standardError)")
        #expect(withoutDirectory.standardError.contains("--secrets")
            && withoutDirectory.standardError.contains("bgp-auth/password"), "\(withoutDirectory.standardError)")

        let secrets = files.directory.appendingPathComponent("secrets").path
        let missing = try Self.run(["--metallb", metallb, "--nodes", nodes, "--secrets", secrets])
        #expect(missing.status == 1, "\(missing.status) \(missing.standardError)")
        #expect(missing.standardError.contains(secrets + "/bgp-auth/password"), "\(missing.standardError)")
    }

    @Test func aFileWithoutBGPPeersOrNodesIsRefused() throws {
        let files = try Files()
        defer { files.remove() }
        let pools = try files.write("pools.yaml", """
            apiVersion: metallb.io/v1beta1
            kind: IPAddressPool
            metadata: {name: vips, namespace: metallb-system}
            spec: {addresses: [198.51.100.0/24]}
            """)
        let nodes = try files.write("nodes.json", Self.nodes)
        let noPeers = try Self.run(["--metallb", pools, "--nodes", nodes])
        #expect(noPeers.status == 1 && noPeers.standardError.contains(pools)
            && noPeers.standardError.contains("no BGPPeer"), "\(noPeers.status) \(noPeers.standardError)")

        let metallb = try files.write("peers.yaml", Self.list(Self.bgpPeer(address: "fd00::1", port: 179)))
        let v4Only = try files.write("v4.json", #"{"kind": "List", "items": [{"kind": "Node", "metadata": {"name": "n"}, "#
            + #""status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.12"}]}}]}"#)
        let noAddress = try Self.run(["--metallb", metallb, "--nodes", v4Only])
        #expect(noAddress.status == 1 && noAddress.standardError.contains(v4Only), "\(noAddress.standardError)")
    }
}
