import Foundation

/// Reads back what `Plotting.SVGPlot` writes: the frame's axis ranges (`data-x-min` … `data-y-max`, `width`),
/// the error bars' pixel ends and the bands' vertices.
public enum SVGReading {
    /// A numeric attribute of the plot's frame (`<rect class="frame" …>`), or nil.
    public static func frame(_ name: String, in svg: String) -> Double? {
        guard let frame = svg.firstMatch(of: /<rect class="frame"[^>]*>/) else { return nil }
        let text = String(frame.0)
        guard let range = text.range(of: " \(name)=\"") else { return nil }
        return Double(text[range.upperBound...].prefix { $0 != "\"" })
    }

    /// Each error bar's pixel ends (top, bottom), over every series.
    public static func errorBars(_ svg: String) -> [(top: Double, bottom: Double)] {
        svg.matches(of: /class="error-bars"[^>]* d="([^"]+)"/).flatMap { match in
            match.1.matches(of: /M([-\d.]+),([-\d.]+)V([-\d.]+)/).compactMap { m in
                Double(m.2).flatMap { top in Double(m.3).map { (top, $0) } }
            }
        }
    }

    /// Every vertex of every band polygon.
    public static func bandVertices(_ svg: String) -> [(x: Double, y: Double)] {
        svg.matches(of: /<polygon class="band"[^>]* points="([^"]+)"/).flatMap { match in
            match.1.split(separator: " ").compactMap { pair -> (x: Double, y: Double)? in
                let parts = pair.split(separator: ",").compactMap { Double($0) }
                return parts.count == 2 ? (parts[0], parts[1]) : nil
            }
        }
    }
}
