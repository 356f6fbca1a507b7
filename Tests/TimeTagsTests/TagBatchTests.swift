import Testing
@testable import TimeTags

@Suite("Tag batch")
struct TagBatchTests {
    @Test("appending keeps the arrays parallel and sortedness is detected")
    func appendAndSort() {
        var batch = TagBatch(capacity: 4)
        batch.append(timePs: 10, channel: 1)
        batch.append(timePs: 20, channel: 2)
        #expect(batch.count == 2 && batch.isSorted)
        batch.append(timePs: 15, channel: 1)
        #expect(!batch.isSorted)
        #expect(batch.channels == [1, 2, 1])
        batch.removeAll()
        #expect(batch.isEmpty)
    }
}
