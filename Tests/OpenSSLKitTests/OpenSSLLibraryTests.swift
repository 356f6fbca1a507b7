import Testing
@testable import OpenSSLKit

@Suite("OpenSSL library")
struct OpenSSLLibraryTests {
    @Test("the linked OpenSSL is version 3 and reports its version text")
    func version() {
        #expect(OpenSSLLibrary.isVersion3OrLater)
        #expect(OpenSSLLibrary.versionText.hasPrefix("OpenSSL 3."))
    }
}
