// AST of a .nn file, as built by grammar/nn.peggy. Every node carries the
// span of the text it came from.

export interface Position {
  offset: number;
  line: number;
  column: number;
}
export interface Span {
  source: string;
  start: Position;
  end: Position;
}

interface Node<K extends string> {
  kind: K;
  span: Span;
}

export interface Name extends Node<"Name"> {
  name: string;
}
export interface NumberLit extends Node<"Number"> {
  value: number;
  text: string;
}
export interface StringLit extends Node<"String"> {
  value: string;
}
export interface BoolLit extends Node<"Bool"> {
  value: boolean;
}
export interface List extends Node<"List"> {
  items: Expr[];
}
export interface Arg extends Node<"Arg"> {
  name: Name | null;
  value: Expr;
}
export interface Call extends Node<"Call"> {
  callee: Name;
  args: Arg[];
}
export interface Binary extends Node<"Binary"> {
  op: "+" | "-" | "*" | "/";
  lhs: Expr;
  rhs: Expr;
}
export interface Neg extends Node<"Neg"> {
  operand: Expr;
}
export type Expr = Name | NumberLit | StringLit | BoolLit | List | Call | Binary | Neg;

export interface Input extends Node<"Input"> {
  name: Name;
  type: Expr;
}
export interface Assign extends Node<"Assign"> {
  name: Name;
  value: Expr;
}
export interface Loss extends Node<"Loss"> {
  value: Expr;
}
export interface Output extends Node<"Output"> {
  value: Expr;
}
export interface Data extends Node<"Data"> {
  source: Call;
}
export interface Return extends Node<"Return"> {
  value: Expr;
}
export interface Repeat extends Node<"Repeat"> {
  count: Expr;
  body: Statement[];
}
export interface Entry extends Node<"Entry"> {
  name: Name;
  value: Expr;
}
export interface Train extends Node<"Train"> {
  entries: Entry[];
}
export type Statement = Input | Assign | Loss | Output | Data | Return | Repeat | Train;

export interface Param extends Node<"Param"> {
  name: Name;
  default: Expr | null;
}
export interface Model extends Node<"Model"> {
  name: Name;
  body: Statement[];
}
export interface Block extends Node<"Block"> {
  name: Name;
  params: Param[];
  body: Statement[];
}
export interface File extends Node<"File"> {
  items: (Model | Block)[];
}
