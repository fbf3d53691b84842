// Small pure helpers for the self-contained HTML page.
#pragma once

#include <string>

namespace sparsim::report {

/// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string html_escape(const std::string& s);
/// Standard base64 (RFC 4648, with '=' padding), for data: URIs.
std::string base64(const std::string& bytes);
/// `<img>` whose source is the SVG as a data: URI (so the page needs no other file).
std::string svg_img(const std::string& svg, const std::string& alt);

}  // namespace sparsim::report
