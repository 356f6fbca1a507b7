import COpenSSL

/// An owned OpenSSL memory `BIO`: the in-memory stream used to read and write PEM and printed text.
public final class MemoryBIO {
    /// The underlying `BIO *`; valid for the life of this object.
    public let pointer: OpaquePointer

    /// An empty, writable memory BIO.
    public init() throws {
        pointer = try require(BIO_new(BIO_s_mem()), "create memory BIO")
    }

    /// A memory BIO holding a copy of `bytes`, ready to be read.
    public init(bytes: [UInt8]) throws {
        let bio = try require(BIO_new(BIO_s_mem()), "create memory BIO")
        pointer = bio
        if !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { BIO_write(bio, $0.baseAddress, Int32($0.count)) }
            guard written == Int32(bytes.count) else {
                throw OpenSSLError(operation: "fill memory BIO")
            }
        }
    }

    /// A memory BIO holding the UTF-8 bytes of `text`.
    public convenience init(text: String) throws {
        try self.init(bytes: Array(text.utf8))
    }

    deinit { BIO_free_all(pointer) }

    /// Everything written to the BIO so far.
    public var bytes: [UInt8] {
        var data: UnsafeMutablePointer<CChar>? = nil
        let length = qlink_bio_get_mem_data(pointer, &data)
        guard length > 0, let data else { return [] }
        return data.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
            Array(UnsafeBufferPointer(start: $0, count: Int(length)))
        }
    }

    /// Everything written so far, decoded as UTF-8.
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}
