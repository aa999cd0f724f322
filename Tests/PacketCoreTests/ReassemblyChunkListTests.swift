import TestSupport
import Testing
@testable import PacketCore

/// `ChunkList` (the out-of-order chunks of one direction) behaves like the sorted array it replaced, for
/// any mix of insertions at the front, the back and in between, and removals from both ends; and a
/// reversed run of segments, the case it exists for, goes in without moving the chunks already held.
@Suite("Reassembly chunk list")
struct ReassemblyChunkListTests {
    static func chunk(_ offset: UInt64) -> FlowDirection.Chunk { FlowDirection.Chunk(offset: offset, bytes: [UInt8(offset & 0xFF)]) }

    @Test(arguments: [1, 2, 3, 42])
    func matchesAnArrayUnderRandomOperations(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var list = ChunkList()
        var model: [FlowDirection.Chunk] = []
        for step in 0..<5_000 {
            let choice = Int.random(in: 0..<10, using: &random)
            if choice < 6 || model.isEmpty {
                // Insert at the front, the back, or anywhere (weighted to the ends, as segments arrive).
                let position = switch Int.random(in: 0..<3, using: &random) {
                case 0: 0
                case 1: model.count
                default: Int.random(in: 0...model.count, using: &random)
                }
                let value = Self.chunk(UInt64(step))
                list.insert(value, at: position)
                model.insert(value, at: position)
            } else if choice < 9 {
                let count = Int.random(in: 0...min(model.count, 50), using: &random)
                list.removeFirst(count)
                model.removeFirst(count)
            } else {
                list.removeLast()
                model.removeLast()
            }
            if Self.shouldCompare(step) {
                #expect(list.map(\.offset) == model.map(\.offset), "step \(step)")
            }
            if list.count > 0 {
                // The mutable subscript (noteFin trims the last chunk through it).
                list[list.count - 1].bytes = [7]
                model[model.count - 1].bytes = [7]
            }
        }
        #expect(list.map(\.offset) == model.map(\.offset))
        #expect(list.map(\.bytes) == model.map(\.bytes))
        #expect(list.first?.offset == model.first?.offset && list.last?.offset == model.last?.offset)
    }

    /// Compare the whole list every 97 steps (every step would be quadratic).
    static func shouldCompare(_ step: Int) -> Bool { step % 97 == 0 }

    @Test func reversedInsertionsStayOrdered() {
        var list = ChunkList()
        for offset in stride(from: UInt64(200_000), to: 0, by: -2) { list.insert(Self.chunk(offset), at: 0) }
        #expect(list.count == 100_000)
        #expect(list.first?.offset == 2 && list.last?.offset == 200_000)
        #expect(zip(list, list.dropFirst()).allSatisfy { $0.offset < $1.offset })
        list.removeFirst(99_999)
        #expect(list.map(\.offset) == [200_000])
    }
}
