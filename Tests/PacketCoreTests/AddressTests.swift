import Testing
@testable import PacketCore

@Suite("Addresses")
struct AddressTests {
    @Test(arguments: [
        ("02:42:ac:11:00:02", "02:42:ac:11:00:02"),
        ("02-42-AC-11-00-02", "02:42:ac:11:00:02"),
        ("0242.ac11.0002", "02:42:ac:11:00:02"),
        ("0242ac110002", "02:42:ac:11:00:02"),
        ("ff:ff:ff:ff:ff:ff", "ff:ff:ff:ff:ff:ff"),
    ])
    func macParsesAndPrintsCanonically(text: String, canonical: String) throws {
        let mac = try #require(MACAddress(text))
        #expect(mac.description == canonical)
    }

    @Test(arguments: ["", "02:42:ac:11:00", "02:42:ac:11:00:02:03", "02:42:ac:11:00:0g", "02:42-ac:11:00:02",
        "02::42:ac:11:00:02", "0242.ac11.00020", "024.2ac.110.002"])
    func macRejectsGarbage(text: String) {
        #expect(MACAddress(text) == nil)
    }

    @Test func macBits() throws {
        #expect(MACAddress.broadcast.isBroadcast && MACAddress.broadcast.isMulticast)
        #expect(try #require(MACAddress("01:00:5e:00:00:01")).isMulticast)
        #expect(try #require(MACAddress("02:00:00:00:00:01")).isLocallyAdministered)
        #expect(!(try #require(MACAddress("00:16:3e:00:00:01")).isLocallyAdministered))
        #expect(MACAddress(0x02, 0x42, 0xac, 0x11, 0, 2).octets == [0x02, 0x42, 0xac, 0x11, 0, 2])
    }

    @Test(arguments: ["0.0.0.0", "198.51.100.10", "255.255.255.255", "203.0.113.1"])
    func ipv4RoundTrips(text: String) throws {
        #expect(try #require(IPv4Address(text)).description == text)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "1..2.3", "01234.1.1.1", "a.b.c.d", "1.2.3."])
    func ipv4RejectsGarbage(text: String) {
        #expect(IPv4Address(text) == nil)
    }

    /// RFC 5952 section 4: canonical text.
    @Test(arguments: [
        ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),  // a single zero group is not compressed
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),  // the longest run wins
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  // the first of equal runs wins
        ("0:0:0:0:0:0:0:0", "::"),
        ("::1", "::1"),
        ("fe80::0001", "fe80::1"),
        ("::ffff:198.51.100.1", "::ffff:198.51.100.1"),
        ("fd99::10", "fd99::10"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
    ])
    func ipv6Canonical(text: String, canonical: String) throws {
        #expect(try #require(IPv6Address(text)).description == canonical)
    }

    @Test(arguments: ["", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "g::1", "1:",
        ":1", "::1.2.3", "fe80::1%eth0", "1:2:3:4:5:6:7:8::"])
    func ipv6RejectsGarbage(text: String) {
        #expect(IPv6Address(text) == nil)
    }

    @Test func ipv6Properties() throws {
        let linkLocal = try #require(IPv6Address("fe80::1"))
        #expect(linkLocal.isLinkLocal && !linkLocal.isMulticast)
        #expect(IPv6Address.allNodes.isMulticast)
        #expect(try #require(IPv6Address("2001:db8::abcd:1234")).solicitedNodeMulticast.description == "ff02::1:ffcd:1234")
    }

    @Test func prefixes() throws {
        let prefix = try #require(IPPrefix("198.51.100.7/24"))
        #expect(prefix.network.description == "198.51.100.0")
        #expect(prefix.last.description == "198.51.100.255")
        #expect(prefix.contains(try #require(IPAddress("198.51.100.200"))))
        #expect(!prefix.contains(try #require(IPAddress("198.51.101.1"))))
        #expect(!prefix.contains(try #require(IPAddress("::1"))))
        let v6 = try #require(IPPrefix("2001:db8::/32"))
        #expect(v6.contains(try #require(IPAddress("2001:db8:ffff::1"))))
        #expect(!v6.contains(try #require(IPAddress("2001:db9::1"))))
        #expect(try #require(IPPrefix("fd99::10/127")).last.description == "fd99::11")
        #expect(try #require(IPPrefix("198.51.100.10")).length == 32)
        #expect(try #require(IPPrefix("0.0.0.0/0")).contains(try #require(IPAddress("203.0.113.9"))))
        for bad in ["198.51.100.0/33", "2001:db8::/129", "1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/a", "/24", "1.2.3.4/0024"] {
            #expect(IPPrefix(bad) == nil, "\(bad)")
        }
    }

    @Test func metalLBRanges() throws {
        let range = try #require(IPRange("198.51.100.200-198.51.100.250"))
        #expect(range.contains(try #require(IPAddress("198.51.100.200"))))
        #expect(range.contains(try #require(IPAddress("198.51.100.250"))))
        #expect(!range.contains(try #require(IPAddress("198.51.100.251"))))
        #expect(try #require(IPRange(" 198.51.100.1 - 198.51.100.2 ")).description == "198.51.100.1-198.51.100.2")
        let cidr = try #require(IPRange("198.51.100.64/26"))
        #expect(cidr.description == "198.51.100.64-198.51.100.127")
        #expect(try #require(IPRange("fd99::10-fd99::1f")).contains(try #require(IPAddress("fd99::1a"))))
        #expect(IPRange("198.51.100.9-198.51.100.1") == nil)
        #expect(IPRange("198.51.100.1-fd99::1") == nil)
        #expect(IPRange("nonsense") == nil)
    }

    @Test func timestamps() {
        let a = Timestamp(seconds: 10, nanoseconds: 900_000_000)
        let b = Timestamp(seconds: 11, nanoseconds: 100_000_000)
        #expect(b.nanoseconds(since: a) == 200_000_000)
        #expect(a < b)
        #expect(Timestamp(seconds: 1, nanoseconds: 1_500_000_000) == Timestamp(seconds: 2, nanoseconds: 500_000_000))
        #expect(Timestamp(seconds: 1, nanoseconds: -1).description == "0.999999999")
        #expect(a.adding(nanoseconds: 200_000_000) == b)
    }
}

@Suite("Cursor")
struct CursorTests {
    @Test func readsAreBoundsCheckedAndAllOrNothing() throws {
        try withCursor(over: [0x01, 0x02, 0x03, 0x04, 0x05], origin: 100) { (cursor: inout Cursor) throws(ParseError) in
            #expect(try cursor.readU16() == 0x0102)
            #expect(cursor.offset == 102)
            #expect(throws: ParseError.self) { try cursor.readU32() }
            #expect(cursor.offset == 102)  // nothing consumed by the failed read
            #expect(try cursor.readU24() == 0x030405)
            #expect(cursor.isEmpty)
        }
        try withCursor(over: [0x01, 0x02, 0x03, 0x04]) { (cursor: inout Cursor) throws(ParseError) in
            #expect(try cursor.readU32LE() == 0x0403_0201)
        }
        try withCursor(over: Array(0..<6)) { (cursor: inout Cursor) throws(ParseError) in
            var inner = try cursor.sub(2)
            #expect(try inner.readU16() == 0x0001)
            #expect(throws: ParseError.self) { try inner.readU8() }
            #expect(try cursor.readU8() == 2)
            let error = cursor.error(.malformed, "x")
            #expect(error.offset == 3)
            #expect(throws: ParseError.self) { try cursor.skip(4) }
            #expect(throws: ParseError.self) { try cursor.skip(-1) }
            #expect(cursor.peekU16() == 0x0304)
            #expect(cursor.peekU32() == nil)
        }
    }

    @Test func nulTerminatedStrings() throws {
        try withCursor(over: Array("5.5.5-10.11\0rest".utf8)) { (cursor: inout Cursor) throws(ParseError) in
            #expect(try cursor.readNulTerminatedString() == "5.5.5-10.11")
            #expect(throws: ParseError.self) { try cursor.readNulTerminatedString() }
            #expect(cursor.remaining == 4)
        }
    }
}

@Suite("Timestamp text")
struct TimestampTextTests {
    @Test(arguments: [
        (Int64(0), Int32(0), "1970-01-01T00:00:00.000000000Z"),
        (951_782_400, 5, "2000-02-29T00:00:00.000000005Z"),  // leap day
        (1_795_800_795, 202_385_772, "2026-11-27T17:33:15.202385772Z"),
        (-1, 0, "1969-12-31T23:59:59.000000000Z"),
        (4_102_444_800, 999_999_999, "2100-01-01T00:00:00.999999999Z"),
    ])
    func iso8601(seconds: Int64, nanoseconds: Int32, text: String) {
        #expect(Timestamp(seconds: seconds, nanoseconds: nanoseconds).iso8601 == text)
    }
}
