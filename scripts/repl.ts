/**
 * `npm run repl`: operators' console. With TRANSPORTER set it joins the cluster as a node
 * without services; without one it starts the one-process node with the REPL attached.
 */
import { main } from "./start";

void main({ repl: true });
