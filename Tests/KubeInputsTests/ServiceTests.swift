import Foundation
import KubeInputs
import PacketCore
import TestSupport
import Testing

@Suite("kubectl get svc -A -o json")
struct ServiceTests {
    static let file = Inputs.path("services.json")

    @Test("Every LoadBalancer Service, as the independent oracle (Python json) reads it")
    func matchesOracle() throws {
        let inventory = try ServiceInventory.read(file: Self.file)
        guard let expected = try Inputs.oracleLines("services", Self.file) else { return }
        // The oracle keeps kubectl's order; KubeInputs sorts by namespace/name.
        #expect(Canonical.lines(inventory) == expected.sorted())
        #expect(!expected.isEmpty)
    }

    @Test("ClusterIP and headless Services are ignored, and counted")
    func ignoresNonLoadBalancer() throws {
        let inventory = try ServiceInventory.read(file: Self.file)
        let names = inventory.services.map(\.qualifiedName)
        #expect(!names.contains("db/mariadb-headless"))
        #expect(!names.contains("default/kubernetes"))
        #expect(inventory.ignoredServices == 2)
    }

    @Test("Dual stack, pending, and declared-and-assigned Services")
    func kinds() throws {
        let inventory = try ServiceInventory.read(file: Self.file)
        func service(_ name: String) throws -> ServiceExpectation {
            try #require(inventory.services.first { $0.qualifiedName == name })
        }
        let frontend = try service("web/frontend")
        #expect(frontend.assigned.map(\.bitWidth) == [32, 128])
        #expect(frontend.ipFamilies == ["IPv4", "IPv6"])
        #expect(frontend.metallbAnnotations["metallb.universe.tf/allow-shared-ip"] == "frontend-share")
        #expect(frontend.allocatedPool == "public-dual")

        let pending = try service("web/pending")
        #expect(pending.assigned.isEmpty)
        #expect(pending.declaredButUnassigned == pending.declared)
        #expect(pending.declared.count == 2)
        #expect(pending.ports.first?.transport == "UDP")

        let grafana = try service("monitoring/grafana")
        #expect(grafana.declared == grafana.assigned)
        #expect(grafana.declaredButUnassigned.isEmpty)
        #expect(grafana.expectedIPs == grafana.assigned)
        #expect(grafana.requestedPool == "legacy-l2")

        let mariadb = try service("db/mariadb")
        #expect(mariadb.externalTrafficPolicy == "Local")
        #expect(mariadb.ports == [ServicePort(name: "mysql", transport: "TCP", port: 3306, nodePort: 30306)])
        #expect(mariadb.requestedPool == "db-pool")
        // The last-applied-configuration annotation is not MetalLB's: it is not kept.
        #expect(mariadb.metallbAnnotations.keys.allSatisfy { $0.hasPrefix("metallb.") })
    }

    @Test("A single Service (kubectl get svc NAME -o json) is one item")
    func singleObject() throws {
        let json = #"""
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "one", "namespace": "ns"},
             "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
             "status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.7"}, {"hostname": "lb.example"}]}}}
            """#
        let inventory = try ServiceInventory.parse(Inputs.bytes(json), file: "one.json")
        #expect(inventory.services.map(\.qualifiedName) == ["ns/one"])
        #expect(inventory.services.first?.assigned == [IPAddress("198.51.100.7")].compactMap { $0 })
        #expect(inventory.services.first?.ingressHostnames == ["lb.example"])
    }

    /// One LoadBalancer Service named `a`, with extra JSON members for its metadata, spec and status.
    static func service(metadata: String = "", spec: String = "", status: String = "{}") -> String {
        #"{"kind":"Service","metadata":{"name":"a"\#(metadata)},"spec":{"type":"LoadBalancer"\#(spec)},"#
            + #""status":\#(status)}"#
    }

    static let wrongTypes: [(json: String, words: [String])] = [
        (service(spec: #","ports":[{"port":"80"}]"#), ["(-/a)", "spec.ports[0].port", "is a string"]),
        // `true` must read as a boolean, not as port 1 (JSONSerialization's `true` also cast to Int 1).
        (service(spec: #","ports":[{"port":true}]"#), ["spec.ports[0].port", "is a boolean"]),
        (service(spec: #","ports":[{"port":70000}]"#), ["spec.ports[0].port", "70000", "1 to 65535"]),
        (service(spec: #","ports":[{"port":80.5}]"#), ["spec.ports[0].port", "a number"]),
        // Beyond Int: a number, not an integer wrapped around to Int.min.
        (service(spec: #","ports":[{"port":9223372036854775808}]"#), ["spec.ports[0].port", "is a number"]),
        (service(status: #"{"loadBalancer":{"ingress":[{"ip":"300.1.1.1"}]}}"#),
         ["status.loadBalancer.ingress[0].ip", "300.1.1.1", "not an IPv4 or IPv6 address"]),
        (service(metadata: #","annotations":{"metallb.universe.tf/loadBalancerIPs":"198.51.100.1,nope"}"#),
         ["loadBalancerIPs", "nope"]),
        (service(spec: #","ports":{"port":80}"#), ["spec.ports", "is an object, expected a list"]),
        (service(metadata: #","annotations":{"metallb.io/address-pool":7}"#), ["metadata.annotations.metallb.io"]),
        (#"{"kind":"Service","metadata":{},"spec":{"type":"LoadBalancer"}}"#, ["metadata.name is missing"]),
        (#"{"items": 3}"#, ["items is a number"]),
        (#"[1, 2]"#, ["is a list, expected a Kubernetes object"]),
        (#"{"kind":"Service","metadata":{"name":"a"},"spec":{"type":"LoadBalancer""#, ["not valid JSON"]),
    ]

    @Test("A wrong type, range or address is one sentence naming the file, item and field", arguments: wrongTypes)
    func wrongType(_ input: (json: String, words: [String])) {
        expectInputError(file: "svc.json", containing: input.words) { () throws(KubeInputError) in
            _ = try ServiceInventory.parse(Inputs.bytes(input.json), file: "svc.json")
        }
    }

    @Test("Every prefix of the real input parses or fails with a KubeInputError, never a crash")
    func truncationSweep() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.file)))
        var failures = 0
        for length in stride(from: 0, to: bytes.count, by: 3) {
            do {
                _ = try ServiceInventory.parse(Array(bytes[..<length]), file: "cut.json")
            } catch {
                failures += 1
                #expect(error.description.hasPrefix("cut.json: "))
            }
        }
        #expect(failures > 0)
    }
}

@Suite("kubectl get nodes -o json")
struct NodeTests {
    static let file = Inputs.path("nodes.json")

    @Test("InternalIP addresses per node, as the oracle reads them")
    func matchesOracle() throws {
        let inventory = try NodeInventory.read(file: Self.file)
        guard let expected = try Inputs.oracleLines("nodes", Self.file) else { return }
        #expect(Canonical.lines(inventory) == expected)
        #expect(expected.count == 3)
    }

    @Test("Only InternalIP: ExternalIP and Hostname are not node addresses here")
    func internalOnly() throws {
        let inventory = try NodeInventory.read(file: Self.file)
        let external = try #require(IPAddress("198.51.100.250"))
        #expect(inventory.node(holding: external) == nil)
        let worker1 = try #require(inventory["worker1"])
        #expect(worker1.map(\.bitWidth) == [32, 128])
        #expect(inventory.node(holding: worker1[1]) == "worker1")
    }

    @Test("metadata.labels are kept per node (what MetalLB nodeSelectors match)")
    func labels() throws {
        let inventory = try NodeInventory.read(file: Self.file)
        let cp1 = try #require(inventory.nodes.first { $0.name == "cp1" })
        #expect(cp1.labels["kubernetes.io/hostname"] == "cp1")
        #expect(cp1.labels["node-role.kubernetes.io/control-plane"] == "")
        #expect(inventory.nodes.allSatisfy { $0.labels["kubernetes.io/hostname"] == $0.name })
    }

    @Test("A bad node address names the node and the field")
    func badAddress() {
        let json = #"{"items":[{"kind":"Node","metadata":{"name":"n1"},"status":{"addresses":"#
            + #"[{"type":"InternalIP","address":"fd99::zz"}]}}]}"#
        expectInputError(file: "nodes.json", containing: ["items[0] (n1)", "status.addresses[0].address", "fd99::zz"]) {
            () throws(KubeInputError) in
            _ = try NodeInventory.parse(Inputs.bytes(json), file: "nodes.json")
        }
    }
}
