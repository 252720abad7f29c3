import { render } from 'preact';
import '../shared/theme';
import { App } from './App';

render(<App />, document.getElementById('app')!);
