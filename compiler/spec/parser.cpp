// Lexer and recursive-descent parser of the spec language. Grammar:
//   spec      := kernel*
//   kernel    := 'kernel' NAME '(' decls? ')' '->' '(' decls ')' '{' statement* '}'
//   decls     := decl (',' decl)*
//   decl      := NAME ':' DTYPE ('[' (NAME (',' NAME)*)? ']')?   (no shape: a scalar parameter)
//   statement := 'grad' NAME | NAME '=' expr
//   expr      := sum (('<' | '<=' | '>' | '>=' | '==' | '!=') sum)?
//   sum       := product (('+' | '-') product)*
//   product   := unary (('*' | '/') unary)*
//   unary     := '-' unary | primary
//   primary   := NUMBER | STRING | NAME | NAME '(' args? ')' | '(' expr ')'
//   args      := arg (',' arg)*        arg := NAME '=' expr | expr
// Newlines are whitespace; '#' starts a comment that runs to the end of the line.
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "spec/spec.h"

namespace nnf::spec {

std::string format_error(const std::string &file, const std::string &source, Location location,
                         const std::string &message) {
    std::ostringstream out;
    out << file << ":" << location.line << ":" << location.column << ": error: " << message;
    // The source line, and a caret under the column (tabs kept, so the caret lines up).
    std::istringstream lines(source);
    std::string line;
    for (int i = 0; i < location.line && std::getline(lines, line); ++i) {
    }
    if (location.line >= 1) {
        out << "\n" << line << "\n";
        for (int i = 1; i < location.column && i <= static_cast<int>(line.size()); ++i) {
            out << (line[static_cast<size_t>(i - 1)] == '\t' ? '\t' : ' ');
        }
        out << "^";
    }
    return out.str();
}

namespace {

struct Token {
    enum Kind { name, number, string, symbol, end } kind = end;
    std::string text;
    double value = 0;
    Location location;
};

std::string describe(const Token &t) {
    switch (t.kind) {
    case Token::name: return "'" + t.text + "'";
    case Token::number: return "number " + t.text;
    case Token::string: return "string \"" + t.text + "\"";
    case Token::symbol: return "'" + t.text + "'";
    case Token::end: return "end of file";
    }
    return "?";
}

class Parser {
public:
    Parser(const std::string &file, const std::string &source) : file_(file), source_(source) { lex(); }

    Spec parse_spec() {
        Spec spec;
        spec.file = file_;
        spec.source = source_;
        while (peek().kind != Token::end) spec.kernels.push_back(parse_kernel());
        return spec;
    }

private:
    [[noreturn]] void error(Location at, const std::string &message) const {
        throw CompileError(format_error(file_, source_, at, message));
    }

    void lex() {
        int line = 1, column = 1;
        size_t i = 0;
        auto advance = [&](size_t n) {
            for (size_t k = 0; k < n; ++k, ++i) {
                if (source_[i] == '\n') {
                    ++line;
                    column = 1;
                } else {
                    ++column;
                }
            }
        };
        while (i < source_.size()) {
            const char c = source_[i];
            if (c == '#') {
                while (i < source_.size() && source_[i] != '\n') advance(1);
                continue;
            }
            if (std::isspace(static_cast<unsigned char>(c))) {
                advance(1);
                continue;
            }
            Token t;
            t.location = {line, column};
            if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
                size_t j = i;
                while (j < source_.size() && (std::isalnum(static_cast<unsigned char>(source_[j])) || source_[j] == '_')) ++j;
                t.kind = Token::name;
                t.text = source_.substr(i, j - i);
                advance(j - i);
            } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                       (c == '.' && i + 1 < source_.size() && std::isdigit(static_cast<unsigned char>(source_[i + 1])))) {
                const char *begin = source_.c_str() + i;
                char *stop = nullptr;
                t.value = std::strtod(begin, &stop);
                const size_t n = static_cast<size_t>(stop - begin);
                t.kind = Token::number;
                t.text = source_.substr(i, n);
                advance(n);
                if (i < source_.size() && (std::isalpha(static_cast<unsigned char>(source_[i])) || source_[i] == '_')) {
                    error({line, column}, "unexpected '" + std::string(1, source_[i]) + "' after number " + t.text);
                }
            } else if (c == '"') {
                size_t j = i + 1;
                while (j < source_.size() && source_[j] != '"' && source_[j] != '\n') ++j;
                if (j >= source_.size() || source_[j] != '"') error(t.location, "unterminated string; expected '\"'");
                t.kind = Token::string;
                t.text = source_.substr(i + 1, j - i - 1);
                advance(j + 1 - i);
            } else {
                static const char *const kTwo[] = {"->", "<=", ">=", "==", "!="};
                t.kind = Token::symbol;
                for (const char *two : kTwo) {
                    if (source_.compare(i, 2, two) == 0) t.text = two;
                }
                if (t.text.empty()) {
                    if (std::string("()[]{},:=+-*/<>").find(c) == std::string::npos) {
                        error(t.location, "unexpected character '" + std::string(1, c) + "'");
                    }
                    t.text = std::string(1, c);
                }
                advance(t.text.size());
            }
            tokens_.push_back(t);
        }
        Token end;
        end.location = {line, column};
        tokens_.push_back(end);
    }

    const Token &peek(size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
    Token next() {
        Token t = peek();
        if (pos_ < tokens_.size() - 1) ++pos_;
        return t;
    }
    bool is_symbol(const char *s, size_t ahead = 0) const {
        return peek(ahead).kind == Token::symbol && peek(ahead).text == s;
    }
    Token expect_symbol(const char *s, const std::string &context) {
        if (!is_symbol(s)) error(peek().location, "expected '" + std::string(s) + "' " + context + ", found " + describe(peek()));
        return next();
    }
    Token expect_name(const std::string &what) {
        if (peek().kind != Token::name) error(peek().location, "expected " + what + ", found " + describe(peek()));
        return next();
    }

    Kernel parse_kernel() {
        Token keyword = peek();
        if (keyword.kind != Token::name || keyword.text != "kernel") {
            error(keyword.location, "expected 'kernel', found " + describe(keyword));
        }
        next();
        Kernel k;
        Token name = expect_name("a kernel name");
        k.name = name.text;
        k.location = name.location;
        expect_symbol("(", "after the kernel name");
        if (!is_symbol(")")) k.inputs = parse_decls("an input name");
        expect_symbol(")", "after the inputs");
        expect_symbol("->", "after the inputs");
        expect_symbol("(", "before the outputs");
        k.outputs = parse_decls("an output name");
        expect_symbol(")", "after the outputs");
        expect_symbol("{", "to open the kernel body");
        while (!is_symbol("}")) {
            if (peek().kind == Token::end) error(peek().location, "expected '}' to close kernel '" + k.name + "', found end of file");
            k.statements.push_back(parse_statement());
        }
        next();
        return k;
    }

    std::vector<TensorDecl> parse_decls(const std::string &what) {
        std::vector<TensorDecl> decls;
        do {
            TensorDecl d;
            Token name = expect_name(what);
            d.name = name.text;
            d.location = name.location;
            expect_symbol(":", "after '" + d.name + "'");
            Token type = peek();
            if (type.kind == Token::name && type.text == "f32") {
                d.dtype = DType::f32;
            } else if (type.kind == Token::name && type.text == "i64") {
                d.dtype = DType::i64;
            } else if (type.kind == Token::name && type.text == "i32") {
                d.dtype = DType::i32;
            } else {
                error(type.location, "expected a dtype (f32, i32 or i64), found " + describe(type));
            }
            next();
            if (!is_symbol("[")) {
                // No shape: a scalar parameter, passed by value (the checker allows it for f32
                // inputs only).
                d.by_value = true;
                decls.push_back(d);
                continue;
            }
            next();
            if (!is_symbol("]")) {
                do {
                    d.dims.push_back(expect_name("a dimension name").text);
                } while (is_symbol(",") && (next(), true));
            }
            expect_symbol("]", "to close the shape of '" + d.name + "'");
            decls.push_back(d);
        } while (is_symbol(",") && (next(), true));
        return decls;
    }

    Statement parse_statement() {
        Statement s;
        Token first = expect_name("a statement ('<name> = <expression>' or 'grad <input>')");
        s.location = first.location;
        if (first.text == "grad" && peek().kind == Token::name) {
            s.kind = Statement::grad;
            s.target = next().text;
            return s;
        }
        s.kind = Statement::assign;
        s.target = first.text;
        expect_symbol("=", "after '" + first.text + "'");
        s.value = parse_expr();
        return s;
    }

    ExprPtr make(Expr::Kind kind, Location at) {
        auto e = std::make_shared<Expr>();
        e->kind = kind;
        e->location = at;
        return e;
    }

    ExprPtr parse_expr() {
        ExprPtr left = parse_sum();
        static const char *const kCompare[] = {"<", "<=", ">", ">=", "==", "!="};
        for (const char *op : kCompare) {
            if (is_symbol(op)) {
                Token t = next();
                ExprPtr e = make(Expr::binary, t.location);
                e->text = op;
                e->args = {left, parse_sum()};
                return e;
            }
        }
        return left;
    }

    ExprPtr parse_sum() {
        ExprPtr left = parse_product();
        while (is_symbol("+") || is_symbol("-")) {
            Token t = next();
            ExprPtr e = make(Expr::binary, t.location);
            e->text = t.text;
            e->args = {left, parse_product()};
            left = e;
        }
        return left;
    }

    ExprPtr parse_product() {
        ExprPtr left = parse_unary();
        while (is_symbol("*") || is_symbol("/")) {
            Token t = next();
            ExprPtr e = make(Expr::binary, t.location);
            e->text = t.text;
            e->args = {left, parse_unary()};
            left = e;
        }
        return left;
    }

    ExprPtr parse_unary() {
        if (is_symbol("-")) {
            Token t = next();
            ExprPtr e = make(Expr::negate, t.location);
            e->args = {parse_unary()};
            return e;
        }
        return parse_primary();
    }

    ExprPtr parse_primary() {
        Token t = peek();
        if (t.kind == Token::number) {
            next();
            ExprPtr e = make(Expr::number, t.location);
            e->value = t.value;
            e->text = t.text;
            return e;
        }
        if (t.kind == Token::string) {
            next();
            ExprPtr e = make(Expr::string, t.location);
            e->text = t.text;
            return e;
        }
        if (is_symbol("(")) {
            next();
            ExprPtr inner = parse_expr();
            expect_symbol(")", "to close '('");
            return inner;
        }
        if (t.kind == Token::name) {
            next();
            if (!is_symbol("(")) {
                ExprPtr e = make(Expr::name, t.location);
                e->text = t.text;
                return e;
            }
            next();
            ExprPtr e = make(Expr::call, t.location);
            e->text = t.text;
            if (!is_symbol(")")) {
                do {
                    if (peek().kind == Token::name && is_symbol("=", 1)) {
                        Token keyword = next();
                        next();
                        e->keywords.push_back({keyword.text, parse_expr(), keyword.location});
                    } else {
                        if (!e->keywords.empty()) {
                            error(peek().location, "expected a keyword argument ('name=value') after keyword arguments");
                        }
                        e->args.push_back(parse_expr());
                    }
                } while (is_symbol(",") && (next(), true));
            }
            expect_symbol(")", "to close the arguments of '" + t.text + "'");
            return e;
        }
        error(t.location, "expected an expression, found " + describe(t));
    }

    std::string file_, source_;
    std::vector<Token> tokens_;
    size_t pos_ = 0;
};

}  // namespace

Spec parse(const std::string &file, const std::string &source) {
    return Parser(file, source).parse_spec();
}

Spec load(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CompileError(path + ": error: cannot read the spec file");
    std::ostringstream text;
    text << in.rdbuf();
    Spec spec = parse(path, text.str());
    check(spec);
    return spec;
}

}  // namespace nnf::spec
