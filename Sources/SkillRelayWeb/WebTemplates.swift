import Foundation
import Mustache

/// The web page's Mustache templates, read once from the bundle. `{{name}}` escapes HTML; the templates never use the
/// unescaped forms for anything a person typed.
public struct WebTemplates: Sendable {
    let library: MustacheLibrary

    /// A template that is missing or does not parse: a defect of the build, reported rather than crashed on.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The templates shipped in this target's `Templates` folder.
    public static let bundled: Result<WebTemplates, Failure> = {
        guard let folder = Bundle.module.url(forResource: "Templates", withExtension: nil),
            let files = try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        else { return .failure(Failure(description: "the Templates folder is missing from the bundle")) }
        var library = MustacheLibrary()
        for file in files where file.pathExtension == "mustache" {
            do {
                let text = try String(contentsOf: file, encoding: .utf8)
                try library.register(text, named: file.deletingPathExtension().lastPathComponent)
            } catch {
                return .failure(Failure(description: "template \(file.lastPathComponent): \(error)"))
            }
        }
        return .success(WebTemplates(library: library))
    }()

    /// The page `template` filled from `object`'s stored properties.
    public func render(_ object: Any, template: String) throws -> String {
        guard let html = library.render(object, withTemplate: template) else {
            throw Failure(description: "no template named \(template)")
        }
        return html
    }
}

/// The stylesheet and script, served by SkillRelay itself (no CDN, no external fonts).
public enum WebAssets {
    /// A file from the `Static` folder and its content type, or `nil` for any other name.
    public static func file(named name: String) -> (bytes: [UInt8], contentType: String)? {
        guard let type = contentTypes[(name as NSString).pathExtension], !name.contains("/"), !name.hasPrefix("."),
            let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Static"),
            let data = try? Data(contentsOf: url)
        else { return nil }
        return (Array(data), type)
    }

    static let contentTypes = ["css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml"]
}
