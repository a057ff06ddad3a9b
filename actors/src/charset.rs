//! Bytes of unknown encoding as text. Many Chinese web pages and files are GBK or GB18030,
//! not UTF-8: a declared charset wins (a byte-order mark over everything, as browsers do),
//! then valid UTF-8, then what `chardetng` detects; `encoding_rs` decodes. Used for fetched
//! pages and for files users send.

/// `bytes` as text; `declared` is a charset label (`gbk`, `utf-8`...) if the source gave one.
pub fn decode(declared: Option<&str>, bytes: &[u8]) -> String {
    let declared = declared.and_then(|l| encoding_rs::Encoding::for_label(l.trim().as_bytes()));
    let encoding = match declared {
        Some(e) => e,
        None if std::str::from_utf8(bytes).is_ok() => encoding_rs::UTF_8,
        None => {
            let mut detector =
                chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            detector.feed(bytes, true);
            detector.guess(None, chardetng::Utf8Detection::Allow)
        }
    };
    let (text, _, _) = encoding.decode(bytes);
    text.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_then_utf8_then_detected() {
        let (gbk, _, _) =
            encoding_rs::GBK.encode("会议纪要：周四下午三点，地点二楼会议室，请准时参加。");
        assert!(decode(None, &gbk).starts_with("会议纪要"));
        assert!(decode(Some("gb18030"), &gbk).starts_with("会议纪要"));
        assert_eq!(decode(None, "北京 ok".as_bytes()), "北京 ok");
        let bom = [&[0xEF, 0xBB, 0xBF][..], "x".as_bytes()].concat();
        assert_eq!(decode(Some("gbk"), &bom), "x", "a BOM wins");
    }
}
