//! How text becomes terms: one analyser per language the index stems, and one for the rest.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer, TokenizerManager,
};

/// The languages with a stemmer of their own; everything else is `other`, folded but not stemmed.
pub const LANGUAGES: [&str; 5] = ["en", "fr", "es", "ar", "other"];

/// The analyser a document in `language` (an ISO 639-1 code) is indexed with.
pub fn analyser_for(language: &str) -> &'static str {
    match language {
        "en" => "en",
        "fr" => "fr",
        "es" => "es",
        "ar" => "ar",
        _ => "other",
    }
}

pub fn register(manager: &TokenizerManager) {
    let base = || {
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(48))
            .filter(LowerCaser)
    };
    manager.register(
        "en",
        base()
            .filter(AsciiFoldingFilter)
            .filter(Stemmer::new(Language::English))
            .build(),
    );
    // French and Spanish stemmers know their accents: fold after stemming.
    manager.register(
        "fr",
        base()
            .filter(Stemmer::new(Language::French))
            .filter(AsciiFoldingFilter)
            .build(),
    );
    manager.register(
        "es",
        base()
            .filter(Stemmer::new(Language::Spanish))
            .filter(AsciiFoldingFilter)
            .build(),
    );
    manager.register(
        "ar",
        base()
            .filter(ArabicNormaliser)
            .filter(Stemmer::new(Language::Arabic))
            .build(),
    );
    manager.register("other", base().filter(AsciiFoldingFilter).build());
}

/// Arabic spellings that readers treat as the same word: without short vowels and tatweel,
/// with one alef, with final ya and ta marbuta as commonly written.
#[derive(Clone)]
pub struct ArabicNormaliser;

impl TokenFilter for ArabicNormaliser {
    type Tokenizer<T: Tokenizer> = ArabicNormaliserFilter<T>;
    fn transform<T: Tokenizer>(self, tokenizer: T) -> ArabicNormaliserFilter<T> {
        ArabicNormaliserFilter(tokenizer)
    }
}

#[derive(Clone)]
pub struct ArabicNormaliserFilter<T>(T);

impl<T: Tokenizer> Tokenizer for ArabicNormaliserFilter<T> {
    type TokenStream<'a> = ArabicNormaliserStream<T::TokenStream<'a>>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        ArabicNormaliserStream(self.0.token_stream(text))
    }
}

pub struct ArabicNormaliserStream<S>(S);

impl<S: TokenStream> TokenStream for ArabicNormaliserStream<S> {
    fn advance(&mut self) -> bool {
        if !self.0.advance() {
            return false;
        }
        let token = self.0.token_mut();
        if !token.text.is_ascii() {
            token.text = normalise_arabic(&token.text);
        }
        true
    }
    fn token(&self) -> &Token {
        self.0.token()
    }
    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

pub fn normalise_arabic(word: &str) -> String {
    word.chars()
        .filter_map(|c| match c {
            '\u{064b}'..='\u{065f}' | '\u{0670}' | '\u{0640}' => None,
            'أ' | 'إ' | 'آ' | 'ٱ' => Some('ا'),
            'ى' => Some('ي'),
            'ة' => Some('ه'),
            c => Some(c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(analyser: &str, text: &str) -> Vec<String> {
        let m = TokenizerManager::default();
        register(&m);
        let mut a = m.get(analyser).unwrap();
        let mut s = a.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            out.push(s.token().text.clone());
        }
        out
    }

    #[test]
    fn each_language_stems_its_own_words() {
        assert_eq!(terms("en", "Refugees resettled"), ["refuge", "resettl"]);
        assert_eq!(
            terms("fr", "réfugiés réinstallés"),
            terms("fr", "réfugié réinstallé")
        );
        assert_eq!(terms("es", "solicitudes"), terms("es", "solicitud"));
        assert_eq!(terms("other", "Flüchtlinge"), ["fluchtlinge"]);
    }

    #[test]
    fn arabic_is_normalised_then_stemmed() {
        assert_eq!(terms("ar", "أفغانستان"), terms("ar", "افغانستان"));
        assert_eq!(terms("ar", "اللاجئون"), terms("ar", "لاجئ"));
    }
}
