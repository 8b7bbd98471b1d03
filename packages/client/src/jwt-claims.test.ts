import { readClaims } from "./jwt-claims";

const jwtWith = (payload: object) =>
  `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.signature`;

describe("readClaims", () => {
  it("reads sub (string or number) and exp in milliseconds", () => {
    expect(readClaims(jwtWith({ sub: 42, exp: 1700000000 }))).toEqual({ sub: "42", expiresAt: 1700000000000 });
    expect(readClaims(jwtWith({ sub: "u_7" }))).toEqual({ sub: "u_7", expiresAt: undefined });
  });

  it("gives empty claims for something that is not a JWT", () => {
    expect(readClaims("not a token")).toEqual({});
    expect(readClaims("a.!!!.c")).toEqual({});
  });
});
