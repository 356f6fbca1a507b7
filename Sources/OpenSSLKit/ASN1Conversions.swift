import COpenSSL
import Foundation

/// Conversions between OpenSSL's ASN.1 values and Swift values.
enum ASN1 {
    /// The instant an `ASN1_TIME` denotes, or nil when it cannot be parsed.
    static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date? {
        guard let time else { return nil }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else {
            OpenSSLError.clearQueue()
            return nil
        }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    /// A new `ASN1_TIME` for `date` (whole seconds); the caller frees it with `ASN1_TIME_free`.
    static func makeTime(_ date: Date) throws -> UnsafeMutablePointer<ASN1_TIME> {
        OpenSSLError.clearQueue()
        return try require(ASN1_TIME_set(nil, time_t(date.timeIntervalSince1970.rounded(.down))), "encode time")
    }

    /// Upper-case hexadecimal of an `ASN1_INTEGER` (a serial number), e.g. `"3A9F…"`.
    static func hex(_ integer: UnsafePointer<ASN1_INTEGER>?) -> String? {
        guard let integer, let bignum = ASN1_INTEGER_to_BN(integer, nil) else { return nil }
        defer { BN_free(bignum) }
        guard let text = BN_bn2hex(bignum) else { return nil }
        defer { qlink_openssl_free(text) }
        return String(cString: text)
    }

    /// A new `ASN1_INTEGER` from hexadecimal text; the caller frees it with `ASN1_INTEGER_free`.
    static func makeInteger(hex: String) throws -> UnsafeMutablePointer<ASN1_INTEGER> {
        guard !hex.isEmpty, hex.count <= 64, hex.allSatisfy(\.isHexDigit) else {
            throw OpenSSLError(operation: "parse serial number", context: hex, reasons: ["not hexadecimal"])
        }
        OpenSSLError.clearQueue()
        var bignum: OpaquePointer? = nil
        guard BN_hex2bn(&bignum, hex) > 0, let bignum else {
            throw OpenSSLError(operation: "parse serial number", context: hex)
        }
        defer { BN_free(bignum) }
        return try require(BN_to_ASN1_INTEGER(bignum, nil), "encode serial number", context: hex)
    }

    /// The value of the first entry with `nid` in an `X509_NAME`, e.g. the common name.
    static func nameEntry(_ name: OpaquePointer?, nid: Int32) -> String? {
        guard let name else { return nil }
        let index = X509_NAME_get_index_by_NID(name, nid, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index),
              let data = X509_NAME_ENTRY_get_data(entry) else { return nil }
        var utf8: UnsafeMutablePointer<UInt8>? = nil
        let length = ASN1_STRING_to_UTF8(&utf8, data)
        guard length >= 0, let utf8 else { return nil }
        defer { qlink_openssl_free(utf8) }
        return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
    }

    /// The one-line text form of an `X509_NAME`, e.g. `O = loopback, CN = alice-node`.
    static func oneLine(_ name: OpaquePointer?) -> String {
        guard let name, let bio = try? MemoryBIO() else { return "" }
        X509_NAME_print_ex(bio.pointer, name, 0, qlink_xn_flag_oneline())
        return bio.text
    }
}
